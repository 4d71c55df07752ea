"""Channel credentials at rest: encrypted with Fernet (AES-128-CBC + HMAC-SHA256, from `cryptography`).

Keys come from the CREDENTIALS_KEYS setting (comma-separated Fernet keys, newest first: the first
encrypts, all decrypt, so a key can be rotated by prepending a new one and running `rotate`). Without
it, one key is derived from SECRET_KEY with HKDF, so a deployment is never without encryption.
Plaintext credentials exist only in memory, inside a Connection; they are never logged or shown back.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


class CredentialsUnreadable(Exception):
    """Stored credentials that no configured key opens: the key was changed without rotating."""


def derived_key(secret_key: str) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"order-hub channel credentials")
    return base64.urlsafe_b64encode(hkdf.derive(secret_key.encode()))


class CredentialBox:
    def __init__(self, keys: list[bytes]) -> None:
        if not keys:
            raise ValueError("at least one key is needed")
        self._fernet = MultiFernet([Fernet(k) for k in keys])

    @classmethod
    def from_settings(cls, settings: Mapping[str, object]) -> CredentialBox:
        configured = [k.strip().encode() for k in str(settings.get("CREDENTIALS_KEYS") or "").split(",") if k.strip()]
        return cls(configured or [derived_key(str(settings["SECRET_KEY"]))])

    def seal(self, credentials: Mapping[str, str]) -> str:
        return self._fernet.encrypt(json.dumps(dict(credentials), sort_keys=True).encode()).decode()

    def open(self, sealed: str | None) -> dict[str, str]:
        if not sealed:
            return {}
        try:
            return json.loads(self._fernet.decrypt(sealed.encode()))
        except InvalidToken:
            raise CredentialsUnreadable("the channel's credentials cannot be decrypted with the configured keys"
                                        ) from None

    def rotate(self, sealed: str) -> str:
        """Re-encrypt with the newest key."""
        return self._fernet.rotate(sealed.encode()).decode()


def masked(value: str) -> str:
    """What a page may show of a secret: enough to recognise it, never enough to use it."""
    return "•" * 8 if len(value) < 12 else f"{value[:3]}…{value[-2:]}"
