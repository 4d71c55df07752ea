"""Exchange rates and conversions on the record: rate sources, the stored rates, order FX snapshots."""
