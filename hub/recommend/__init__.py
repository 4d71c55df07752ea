"""Recommendations (issue 8): behaviour events in, precomputed lists out.

- `models`: the append-only behaviour events and the tables the scheduled job fills.
- `events`: recording a batch of events from the seller's site, idempotent by event id.
- `compute`: the job, building the buyer x product and product x product matrices with scipy.sparse.
- `serve`: the reads behind the API, each an indexed lookup of a few rows.
- `evaluate`: the time-split offline evaluation against a popularity baseline.
"""
