"""EasyPost-style multi-carrier API: client (one method per endpoint), pure mapping, the port's adapter, webhooks."""
