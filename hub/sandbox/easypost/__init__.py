"""An EasyPost-style carrier API stand-in: shipments with rates, labels, refunds, trackers and signed webhooks."""
