"""PayPal REST sandbox: `create_app(seed, faults, token_seconds)`; state in app.extensions["sandbox"]."""

from hub.sandbox.paypal.app import CLIENT_ID, CLIENT_SECRET, WEBHOOK_ID, PayPalState, create_app
from hub.sandbox.paypal.faults import DropAfterProcessing, PaymentFaults

__all__ = ["CLIENT_ID", "CLIENT_SECRET", "WEBHOOK_ID", "DropAfterProcessing", "PayPalState", "PaymentFaults",
           "create_app"]
