"""Alipay gateway sandbox: `create_app(seed, faults, clock)`; state in app.extensions["sandbox"];
`credentials()` for the adapter, `alipay_private_key()` to sign test notifies."""

from hub.sandbox.alipay.app import APP_ID, AlipayState, alipay_private_key, create_app, credentials, keys

__all__ = ["APP_ID", "AlipayState", "alipay_private_key", "create_app", "credentials", "keys"]
