"""A DHL Express MyDHL API stand-in: rates, shipments with base64 PDF labels, tracking checkpoints."""
