"""One exception tree for the whole hub.

    HubError                      base; never raised itself
    ├── DomainError               the request is understood but the rules refuse it (4xx)
    │   ├── ValidationError       input is malformed or out of range             -> 400 / 422
    │   ├── NotFound              no such object *for this seller*               -> 404
    │   ├── PermissionDenied      the role may not do this                        -> 403
    │   ├── Conflict              clashes with current state (duplicate SKU)      -> 409
    │   │   ├── IllegalTransition order status move the state machine refuses
    │   │   └── InsufficientStock not enough available units to reserve
    │   └── AuthenticationFailed  bad credentials, locked account, bad token      -> 401
    └── ExternalError             a call to the outside world failed (later issues)
        ├── TransientError        worth retrying: timeouts, 429, 5xx
        └── PermanentError        retrying cannot help: 4xx, bad signature

Each DomainError carries a stable `code`, a human message and optional per-field messages; the
API renders exactly that, the dashboard flashes the message. NotFound is deliberately the same for
"does not exist" and "belongs to another seller" so ids cannot be probed.
"""

from __future__ import annotations


class HubError(Exception):
    code = "error"
    http_status = 500

    def __init__(self, message: str, *, fields: dict[str, str] | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        if code:
            self.code = code


class DomainError(HubError):
    http_status = 400


class ValidationError(DomainError):
    code = "invalid"
    http_status = 422


class NotFound(DomainError):
    code = "not_found"
    http_status = 404


class PermissionDenied(DomainError):
    code = "forbidden"
    http_status = 403


class Conflict(DomainError):
    code = "conflict"
    http_status = 409


class IllegalTransition(Conflict):
    code = "illegal_transition"


class InsufficientStock(Conflict):
    code = "insufficient_stock"


class AuthenticationFailed(DomainError):
    code = "unauthorized"
    http_status = 401


class ExternalError(HubError):
    code = "external_error"
    http_status = 502

    def __init__(self, message: str, *, status: int | None = None, retry_after: float | None = None, **kw):
        super().__init__(message, **kw)
        self.status = status  # the counterpart's HTTP status, if it answered
        self.retry_after = retry_after  # seconds the counterpart asked us to wait


class TransientError(ExternalError):
    code = "external_unavailable"
    http_status = 503


class PermanentError(ExternalError):
    code = "external_rejected"
