"""Serving a sandbox over real HTTP on 127.0.0.1, in a background thread (tests) or the foreground (CLI)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from werkzeug.serving import make_server

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class Mount:
    """A WSGI app forwarding every request to a replaceable app (`mount.app = create_app(...)`); 503 while empty.

    Contract tests keep one server per module and mount a fresh sandbox per test: stopping a server is slow."""

    def __init__(self, name: str = "mount") -> None:
        self.name = name
        self.app: Flask | WSGIApp | None = None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        app = self.app
        if app is None:
            start_response("503 SERVICE UNAVAILABLE", [("Content-Type", "text/plain; charset=utf-8")])
            return [b"nothing is mounted\n"]
        return app(environ, start_response)


@contextmanager
def running(app: Flask | Mount, port: int = 0) -> Iterator[str]:
    """Serve `app` on 127.0.0.1 (a free port unless given) for the block; yields its base URL."""
    server = make_server("127.0.0.1", port, app, threaded=True)  # type: ignore[arg-type]
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


@contextmanager
def running_mount(name: str = "mount") -> Iterator[tuple[Mount, str]]:
    """Serve an empty `Mount` for the block; yields it and its base URL (set `mount.app` to serve an app)."""
    mount = Mount(name)
    with running(mount) as base:
        yield mount, base
