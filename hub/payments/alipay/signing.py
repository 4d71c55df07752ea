"""Alipay's RSA2 signatures: SHA256withRSA, PKCS#1 v1.5, base64 (https://opendocs.alipay.com/common/02kf5q).

- A request is signed over its parameters except `sign`, empty values left out, sorted by name, joined as
  `k=v` with `&`, values raw (not URL-encoded): `sign_type` is part of what is signed.
- A response is signed over the exact text of its `<method>_response` object as it stands in the body;
  the text must be cut out of the body, not re-serialized (key order, spacing and escapes would change).
- An asynchronous notify is verified over its form fields without `sign` *and* `sign_type`, sorted, joined
  `k=v` with `&` (URL-decoded values, empty ones kept, as the Alipay SDKs' getSignCheckContentV1 does).

Keys come as Alipay's console gives them, a bare base64 body, or as PEM; private keys as PKCS#8 or PKCS#1.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa


def _der_or_pem(text: str) -> tuple[bytes, bool]:
    text = text.strip()
    if text.startswith("-----BEGIN"):
        return text.encode(), True
    try:
        return base64.b64decode("".join(text.split()), validate=True), False
    except binascii.Error:
        raise ValueError("an Alipay key must be PEM or a base64 body") from None


def load_private_key(text: str) -> rsa.RSAPrivateKey:
    data, pem = _der_or_pem(text)
    key = (serialization.load_pem_private_key(data, password=None) if pem
           else serialization.load_der_private_key(data, password=None))
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("an Alipay private key must be RSA")
    return key


def load_public_key(text: str) -> rsa.RSAPublicKey:
    data, pem = _der_or_pem(text)
    key = serialization.load_pem_public_key(data) if pem else serialization.load_der_public_key(data)
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("an Alipay public key must be RSA")
    return key


def request_content(params: Mapping[str, str]) -> str:
    return "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k != "sign" and v not in (None, ""))


def notify_content(params: Mapping[str, str]) -> str:
    return "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k not in ("sign", "sign_type"))


def sign(content: str, key: rsa.RSAPrivateKey) -> str:
    return base64.b64encode(key.sign(content.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())).decode()


def verify(content: str, signature: str, key: rsa.RSAPublicKey) -> bool:
    try:
        raw = base64.b64decode(signature, validate=True)
        key.verify(raw, content.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


def response_node(text: str, node: str) -> str | None:
    """The exact text of `"<node>": {...}` in a response body, or None when the body has no such object."""
    marker = f'"{node}"'
    start = text.find(marker)
    if start < 0:
        return None
    colon = text.find(":", start + len(marker))
    if colon < 0:
        return None
    begin = colon + 1
    while begin < len(text) and text[begin] in " \t\r\n":
        begin += 1
    try:
        _, end = json.JSONDecoder().raw_decode(text, begin)
    except ValueError:
        return None
    return text[begin:end]
