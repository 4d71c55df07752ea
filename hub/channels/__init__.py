"""Sales channels. This issue has only the built-in `direct` channel (orders created in the hub or
over its API); marketplace connectors plug in here."""
