"""Shipping paperwork: customs declarations (customs.py) and the seller's tax identifiers (tax_ids.py)."""
