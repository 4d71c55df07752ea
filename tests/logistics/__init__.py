"""Customs declarations and the seller tax identifiers."""
