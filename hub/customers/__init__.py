"""Buyers across channels: one customer profile per person per seller, whatever channel they bought on."""
