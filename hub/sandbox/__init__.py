"""Local stand-ins for the marketplaces (and later payment providers and carriers).

Each sandbox is a small Flask app with its own in-memory state that speaks its vendor's API closely
enough that the real connector runs against it unchanged, only the base URL differs: paths, auth and
signatures, pagination, rate limits and their headers, error bodies, money and time formats.
`hub sandbox serve` runs them on 127.0.0.1; tests start them in-process on a free port.
"""
