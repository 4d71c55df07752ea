"""The Stripe sandbox: PaymentIntents, refunds, idempotency keys, test cards, signed events, faults (app.py)."""

from hub.sandbox.stripe.app import SECRET_KEY, WEBHOOK_SECRET, StripeFaults, create_app

__all__ = ["SECRET_KEY", "WEBHOOK_SECRET", "StripeFaults", "create_app"]
