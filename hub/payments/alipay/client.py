"""HTTP client of Alipay's open API gateway (RSA2): one method per API, each a `method` on /gateway.do.

Common parameters (https://opendocs.alipay.com/common/02kf5q): app_id, method, format=JSON, charset=utf-8,
sign_type=RSA2, timestamp "yyyy-MM-dd HH:mm:ss" in Beijing time, version=1.0, biz_content (the API's own
parameters as JSON), notify_url where one applies, and sign (see signing.py). Calls are form-encoded POSTs.

An answer is `{"<method with _>_response": {code, msg, sub_code, sub_msg, …}, "sign": "…"}`. A successful one
(code 10000) must carry a signature that verifies with Alipay's public key over the object's exact text,
else the answer is not trusted (PermanentError). Codes: 10000 success; 20000 service unavailable and the
sub_codes ACQ.SYSTEM_ERROR / *.UNKNOWN-ERROR are transient (the call is repeated with the same
out_trade_no / out_request_no, which Alipay deduplicates); 40004 business refusals are permanent, the
payer-side ones a PaymentDeclined.

Page pay is not a server call: alipay.trade.page.pay is a signed URL on the gateway the payer opens.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from cryptography.hazmat.primitives.asymmetric import rsa

from hub.errors import PermanentError, TransientError
from hub.jsonexact import parse_json
from hub.outbound.http import HttpClient
from hub.payments.alipay import mapping, signing
from hub.payments.port import PaymentDeclined
from hub.timeutil import utcnow

GATEWAY = "/gateway.do"
TRANSIENT_SUB_CODES = frozenset({"ACQ.SYSTEM_ERROR", "isp.unknow-error", "aop.unknow-error", "isp.unknown-error"})
DECLINE_SUB_CODES = frozenset({
    "ACQ.BUYER_BALANCE_NOT_ENOUGH", "ACQ.BUYER_BANKCARD_BALANCE_NOT_ENOUGH", "ACQ.BUYER_ENABLE_STATUS_FORBID",
    "ACQ.BUYER_PAYMENT_AMOUNT_DAY_LIMIT_ERROR", "ACQ.BUYER_PAYMENT_AMOUNT_MONTH_LIMIT_ERROR",
    "ACQ.PAYMENT_FAIL", "ACQ.PAYMENT_REQUEST_HAS_RISK", "ACQ.ERROR_BUYER_CERTIFY_LEVEL_LIMIT",
})


class AlipayError(PermanentError):
    """A refusal answered by Alipay: `sub_code` says which (ACQ.TRADE_NOT_EXIST, ACQ.TRADE_STATUS_ERROR …)."""

    def __init__(self, message: str, *, sub_code: str = "", **kw: Any) -> None:
        super().__init__(message, **kw)
        self.sub_code = sub_code


class AlipayClient:
    def __init__(self, http: HttpClient, app_id: str, private_key: rsa.RSAPrivateKey,
                 alipay_public_key: rsa.RSAPublicKey, clock: Callable[[], datetime] = utcnow) -> None:
        self.http, self.app_id, self.private_key, self.alipay_public_key = http, app_id, private_key, alipay_public_key
        self.clock = clock

    def signed_params(self, method: str, biz: dict[str, Any], notify_url: str | None = None,
                      return_url: str | None = None) -> dict[str, str]:
        params = {"app_id": self.app_id, "method": method, "format": "JSON", "charset": "utf-8",
                  "sign_type": "RSA2", "timestamp": mapping.timestamp(self.clock()), "version": "1.0",
                  "biz_content": json.dumps(biz, ensure_ascii=False, separators=(",", ":"))}
        if notify_url:
            params["notify_url"] = notify_url
        if return_url:
            params["return_url"] = return_url
        params["sign"] = signing.sign(signing.request_content(params), self.private_key)
        return params

    # --- APIs ------------------------------------------------------------------------------------------------
    def page_pay_url(self, out_trade_no: str, total_amount: str, subject: str, notify_url: str | None,
                     return_url: str | None) -> str:
        """alipay.trade.page.pay, as the URL the payer opens —
        https://opendocs.alipay.com/apis/api_1/alipay.trade.page.pay"""
        biz = {"out_trade_no": out_trade_no, "total_amount": total_amount, "subject": subject,
               "product_code": "FAST_INSTANT_TRADE_PAY"}
        params = self.signed_params("alipay.trade.page.pay", biz, notify_url, return_url)
        return f"{self.http.base_url.rstrip('/')}{GATEWAY}?{urlencode(params)}"

    def query(self, out_trade_no: str) -> dict[str, Any]:
        """alipay.trade.query — https://opendocs.alipay.com/apis/api_1/alipay.trade.query"""
        return self._call("alipay.trade.query", {"out_trade_no": out_trade_no})

    def refund(self, out_trade_no: str, refund_amount: str, out_request_no: str, reason: str = "") -> dict[str, Any]:
        """alipay.trade.refund; out_request_no makes it idempotent and allows partial refunds —
        https://opendocs.alipay.com/apis/api_1/alipay.trade.refund"""
        biz = {"out_trade_no": out_trade_no, "refund_amount": refund_amount, "out_request_no": out_request_no}
        if reason:
            biz["refund_reason"] = reason
        return self._call("alipay.trade.refund", biz)

    def close(self, out_trade_no: str) -> dict[str, Any]:
        """alipay.trade.close (an unpaid trade only) — https://opendocs.alipay.com/apis/api_1/alipay.trade.close"""
        return self._call("alipay.trade.close", {"out_trade_no": out_trade_no})

    # --- the gateway ---------------------------------------------------------------------------------------
    def _call(self, method: str, biz: dict[str, Any]) -> dict[str, Any]:
        """HttpClient retries transport failures; an answer that says "try again" (code 20000, a cut body) is
        retried here on the same budget, each attempt signed afresh (a new timestamp)."""
        policy = self.http.retry
        for attempt in range(1, policy.attempts + 1):
            params = self.signed_params(method, biz)
            response = self.http.request("POST", GATEWAY, data=params, headers={
                "Content-Type": "application/x-www-form-urlencoded;charset=utf-8"})
            try:
                return self.read(method, response.text)
            except TransientError:
                if attempt == policy.attempts:
                    raise
                self.http.sleep(min(policy.initial_seconds * 2 ** (attempt - 1), policy.max_seconds))
        raise AssertionError("unreachable")

    def read(self, method: str, text: str) -> dict[str, Any]:
        """The verified `<method>_response` object of an answer, or the error it stands for."""
        node = method.replace(".", "_") + "_response"
        raw = signing.response_node(text, node)
        if raw is None:
            raw = signing.response_node(text, "error_response")
        try:
            whole = parse_json(text)
            content = parse_json(raw) if raw is not None else None
        except ValueError:
            # Cut in transit: every Alipay call here is safe to repeat (out_trade_no / out_request_no).
            raise TransientError(f"alipay: {method} answered a body that is not JSON") from None
        if not isinstance(content, dict) or not isinstance(whole, dict):
            raise PermanentError(f"alipay: {method} answered without a {node} object")
        signature = whole.get("sign")
        signed = isinstance(signature, str) and signing.verify(raw or "", signature, self.alipay_public_key)
        code = str(content.get("code"))
        if code == "10000":
            if not signed:
                raise PermanentError(f"alipay: the {method} answer's signature does not verify")
            return content
        if isinstance(signature, str) and not signed:
            raise PermanentError(f"alipay: the {method} error answer's signature does not verify")
        sub_code = str(content.get("sub_code") or "")
        message = f"alipay: {method} refused: {code} {content.get('msg')} {sub_code} {content.get('sub_msg') or ''}"
        if code == "20000" or sub_code in TRANSIENT_SUB_CODES:
            raise TransientError(message.strip())
        if sub_code in DECLINE_SUB_CODES:
            raise PaymentDeclined(message.strip())
        raise AlipayError(message.strip(), sub_code=sub_code)
