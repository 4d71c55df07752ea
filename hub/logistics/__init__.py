"""Shipping through the hub's carriers.

    port.py        the carrier port: plain dataclasses and the CarrierPort protocol every adapter implements
    easypost/      EasyPost-style multi-carrier API adapter (client, mapping, adapter, webhooks)
    dhl/           DHL Express MyDHL API adapter (client, mapping, adapter)
    carriers.py    a stored CarrierAccount -> its adapter
    customs.py     customs declarations built from an order
    tracking.py    every carrier's tracking statuses -> the hub's one vocabulary
    models.py      carrier accounts, shipments (labels, idempotency keys), tracking events
    services.py    quote, buy a label (and fulfil the order), cancel, record and poll tracking, webhooks
    jobs.py        the worker's pass: finish interrupted purchases, poll tracking
"""
