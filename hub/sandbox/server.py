"""Serving a sandbox over real HTTP on 127.0.0.1, in a background thread (tests) or the foreground (CLI)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from werkzeug.serving import make_server


@contextmanager
def running(app: Flask, port: int = 0) -> Iterator[str]:
    """Serve `app` on 127.0.0.1 (a free port unless given) for the block; yields its base URL."""
    server = make_server("127.0.0.1", port, app, threaded=True)
    # A short poll interval makes shutdown quick; every contract test starts and stops a server.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              name=f"sandbox-{app.name}", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()
