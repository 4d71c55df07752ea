"""Payments for direct orders: the provider port, adapters (stripe/, paypal/, alipay/), rows, services, jobs."""
