"""Goods and stock: products and their translations, warehouses, stock levels and the stock ledger."""
