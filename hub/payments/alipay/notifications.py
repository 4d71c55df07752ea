"""Alipay's asynchronous notify: a form-encoded POST, RSA2-signed with Alipay's key.

https://opendocs.alipay.com/open/270/105902 — verify by dropping `sign` and `sign_type`, sorting the other
fields, joining `k=v` with `&` and checking the signature with Alipay's public key; then check that the
notify is for our app_id. Anything doubtful is a SignatureInvalid. The handler must answer the seven bytes
`success`, or Alipay sends the notify again (up to 8 times over about 25 hours).
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import parse_qsl

from cryptography.hazmat.primitives.asymmetric import rsa

from hub.errors import PermanentError
from hub.payments.alipay import mapping, signing
from hub.payments.port import ProviderEvent, SignatureInvalid


class AlipayNotifications:
    def __init__(self, app_id: str, alipay_public_key: rsa.RSAPublicKey) -> None:
        self.app_id, self.alipay_public_key = app_id, alipay_public_key

    def parse(self, headers: dict[str, str], body: bytes, now: datetime) -> ProviderEvent:
        try:
            pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True)
        except (UnicodeDecodeError, ValueError):
            raise SignatureInvalid("Alipay notify is not a utf-8 form") from None
        fields = dict(pairs)
        if len(fields) != len(pairs):
            raise SignatureInvalid("Alipay notify repeats a field")
        if fields.get("sign_type") != "RSA2" or not fields.get("sign"):
            raise SignatureInvalid("Alipay notify is not RSA2-signed")
        if not signing.verify(signing.notify_content(fields), fields["sign"], self.alipay_public_key):
            raise SignatureInvalid("Alipay notify signature does not verify")
        if fields.get("app_id") != self.app_id:
            raise SignatureInvalid("Alipay notify is for another app")
        try:
            return mapping.event(fields)
        except PermanentError as exc:
            raise SignatureInvalid(f"Alipay notify is signed but unreadable: {exc}") from None

    def acknowledgement(self) -> tuple[int, str, str]:
        return 200, "text/plain", "success"
