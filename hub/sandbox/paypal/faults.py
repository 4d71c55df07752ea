"""Payment-sandbox faults: the base knobs of hub.sandbox.faults plus one that only matters where money moves.

`drop_after_processing`: the next N API calls are carried out (state changed, idempotency record kept) and
then the connection is shut without an answer, as when a proxy or the network fails after the provider
committed. The client sees a transport error and retries with the same idempotency key; a provider that
honours the key must charge once. The Alipay sandbox uses the same class.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from hub.sandbox.faults import Faults


@dataclass
class PaymentFaults(Faults):
    drop_after_processing: int = 0  # the next N API calls are processed, then answered by a closed connection
    dropped: int = 0  # how many calls were dropped so far (read by tests)

    def take_drop(self) -> bool:
        with self._lock:
            if self.drop_after_processing > 0:
                self.drop_after_processing -= 1
                self.dropped += 1
                return True
            return False


class DropAfterProcessing:
    """WSGI middleware: runs the app to the end, then, when the faults say so, closes the socket unanswered.

    Werkzeug's development server puts the connection in `environ["werkzeug.socket"]`; shutting it down
    before any byte of the answer is written gives the client a reset/closed connection (requests'
    ConnectionError), after the work is done. `applies` chooses the calls it may hit (not /_sandbox/…)."""

    def __init__(self, app: Callable[..., Iterable[bytes]], faults: PaymentFaults,
                 applies: Callable[[dict[str, Any]], bool]) -> None:
        self.app, self.faults, self.applies = app, faults, applies

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not self.applies(environ) or self.faults.drop_after_processing <= 0:
            return self.app(environ, start_response)
        result = self.app(environ, lambda *args, **kwargs: (lambda data: None))
        try:
            for _ in result:  # the whole answer is produced (and the call committed) before the drop
                pass
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        sock = environ.get("werkzeug.socket")
        if sock is None or not self.faults.take_drop():
            start_response("500 INTERNAL SERVER ERROR", [("Content-Type", "text/plain")])
            return [b"dropped\n"]
        with contextlib.suppress(OSError):  # the client may have gone already
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()
        start_response("500 INTERNAL SERVER ERROR", [("Content-Type", "text/plain")])
        return []
