"""Buyers of the seller's own site: the hub as the headless back end of the `direct` channel (the buyer API,
hub.buyers.api, under /store/v1/<seller id>). Buyers are not dashboard users: their own table, tokens and login."""
