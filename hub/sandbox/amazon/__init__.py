"""A local stand-in for the Amazon Selling Partner API (and its Login with Amazon token endpoint, served on the
same base URL). `create_app()` returns a Flask app; `app.extensions["sandbox"]` is its `AmazonState`."""

from hub.sandbox.amazon.app import CREDENTIALS, AmazonState, create_app

__all__ = ["CREDENTIALS", "AmazonState", "create_app"]
