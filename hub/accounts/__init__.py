"""Sellers (tenants), their users and roles, API tokens, the password policy."""
