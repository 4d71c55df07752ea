"""An Alipay open-API gateway stand-in: page pay, trade query/refund/close and signed async notifies.

https://opendocs.alipay.com/common/02kf5q (gateway, RSA2), https://opendocs.alipay.com/open/270/105898
(page pay), https://opendocs.alipay.com/open/270/105902 (notify).

- Keys: the sandbox holds the app's public key (requests are verified with it) and Alipay's private key
  (answers and notifies are signed with it); both pairs are generated once per process. `credentials()`
  gives what a seller would enter: app_id, the app's private key and Alipay's public key (PEM).
- GET (or POST) /gateway.do with method=alipay.trade.page.pay is the payer opening the cashier: the trade
  is registered WAIT_BUYER_PAY (out_trade_no unique: the same one with another amount is refused), and an
  HTML page answers. POST /_sandbox/pay {"out_trade_no", "decline": false} is the payer paying (or giving
  up: the trade closes unpaid); each change makes a signed notify, listed at GET /_sandbox/notifications as
  {notify_url, body} (the form body a receiver gets).
- alipay.trade.query / refund / close answer `{"<method>_response": {...}, "sign": "..."}` signed over the
  object's text. A refund's out_request_no is unique per trade: repeating it answers the first refund again
  (fund_change N) and moves no money.
- Faults (PaymentFaults): latency, timeouts, 500s, throttles (code 20000 aop.ACQ.SYSTEM_ERROR-style), cut
  bodies and `drop_after_processing` (POST /gateway.do); POST /_sandbox/faults sets knobs.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, Response, request

from hub.payments.alipay import signing
from hub.sandbox.paypal.faults import DropAfterProcessing, PaymentFaults

APP_ID = "2021000000000042"
BEIJING = ZoneInfo("Asia/Shanghai")
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
TIMESTAMP_WINDOW = timedelta(minutes=15)
MAX_AMOUNT = Decimal("100000000")


@cache
def keys() -> tuple[rsa.RSAPrivateKey, rsa.RSAPrivateKey]:
    """(the app's key pair, Alipay's key pair), generated once per process."""
    return (rsa.generate_private_key(public_exponent=65537, key_size=2048),
            rsa.generate_private_key(public_exponent=65537, key_size=2048))


def _pem_private(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def _pem_public(key: rsa.RSAPrivateKey) -> str:
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def credentials() -> dict[str, str]:
    app_key, alipay_key = keys()
    return {"app_id": APP_ID, "app_private_key": _pem_private(app_key), "alipay_public_key": _pem_public(alipay_key)}


def alipay_private_key() -> rsa.RSAPrivateKey:
    """Alipay's signing key, for tests that forge or re-sign a notify."""
    return keys()[1]


class AlipayState:
    def __init__(self, clock: Callable[[], datetime]) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.trades: dict[str, dict[str, Any]] = {}  # out_trade_no -> trade
        self.notifications: list[dict[str, str]] = []
        self.refunds_made = 0  # refunds that moved money, for tests: a repeated out_request_no does not count

    def beijing(self) -> str:
        return self.clock().astimezone(BEIJING).strftime(TIME_FORMAT)

    def notify(self, trade: dict[str, Any], **extra: str) -> None:
        fields = {"notify_time": self.beijing(), "notify_type": "trade_status_sync",
                  "notify_id": secrets.token_hex(16), "app_id": APP_ID, "charset": "utf-8", "version": "1.0",
                  "trade_no": trade["trade_no"], "out_trade_no": trade["out_trade_no"],
                  "trade_status": trade["trade_status"], "total_amount": trade["total_amount"],
                  "subject": trade["subject"], "gmt_create": trade["gmt_create"], "buyer_id": "2088102177846880",
                  "seller_id": "2088102177296610"}
        if trade.get("gmt_payment"):
            fields.update(gmt_payment=trade["gmt_payment"], receipt_amount=trade["total_amount"],
                          buyer_pay_amount=trade["total_amount"])
        if trade.get("gmt_close"):
            fields["gmt_close"] = trade["gmt_close"]
        fields.update(extra)
        fields["sign_type"] = "RSA2"
        fields["sign"] = signing.sign(signing.notify_content(fields), alipay_private_key())
        self.notifications.append({"notify_url": trade.get("notify_url") or "", "body": urlencode(fields)})


def create_app(seed: int = 0, faults: PaymentFaults | None = None,
               clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> Flask:
    state = AlipayState(clock)
    faults = faults or PaymentFaults(seed=seed)
    app_public = keys()[0].public_key()
    app = Flask("alipay-sandbox")
    app.extensions["sandbox"] = state
    app.extensions["faults"] = faults
    app.wsgi_app = DropAfterProcessing(  # type: ignore[method-assign]
        app.wsgi_app, faults,
        lambda environ: environ.get("REQUEST_METHOD") == "POST" and environ.get("PATH_INFO") == "/gateway.do")

    def signed(node: str, content: dict[str, Any]) -> Response:
        text = json.dumps(content, ensure_ascii=False)
        body = f'{{"{node}":{text},"sign":"{signing.sign(text, alipay_private_key())}"}}'
        if faults.roll(faults.malformed_rate):
            body = body[: len(body) // 2]
        return Response(body, mimetype="application/json", content_type="application/json;charset=utf-8")

    def refused(node: str, code: str, msg: str, sub_code: str, sub_msg: str) -> Response:
        return signed(node, {"code": code, "msg": msg, "sub_code": sub_code, "sub_msg": sub_msg})

    def business(node: str, sub_code: str, sub_msg: str) -> Response:
        return refused(node, "40004", "Business Failed", sub_code, sub_msg)

    def check(params: dict[str, str], node: str) -> Response | None:
        """The gateway's own checks, in Alipay's order: parameters, app, signature, timestamp."""
        for name in ("app_id", "method", "sign_type", "sign", "timestamp", "version", "charset"):
            if not params.get(name):
                return refused(node, "40001", "Missing Required Arguments", f"isv.missing-{name.replace('_', '-')}",
                               f"缺少{name}参数")
        if params["app_id"] != APP_ID:
            return refused(node, "40002", "Invalid Arguments", "isv.invalid-app-id", "无效的AppID参数")
        if params["sign_type"] != "RSA2":
            return refused(node, "40002", "Invalid Arguments", "isv.invalid-signature-type", "无效的签名类型")
        if not signing.verify(signing.request_content(params), params["sign"], app_public):
            return refused(node, "40002", "Invalid Arguments", "isv.invalid-signature", "验签出错")
        try:
            sent = datetime.strptime(params["timestamp"], TIME_FORMAT).replace(tzinfo=BEIJING)
        except ValueError:
            return refused(node, "40002", "Invalid Arguments", "isv.invalid-timestamp", "非法的时间戳参数")
        if abs(sent - clock()) > TIMESTAMP_WINDOW:
            return refused(node, "40002", "Invalid Arguments", "isv.invalid-timestamp", "非法的时间戳参数")
        if params.get("format", "JSON").upper() != "JSON" or params["version"] != "1.0":
            return refused(node, "40002", "Invalid Arguments", "isv.invalid-format", "无效的数据格式")
        return None

    def amount(raw: object) -> Decimal | None:
        if not isinstance(raw, str):
            return None
        try:
            value = Decimal(raw)
        except InvalidOperation:
            return None
        if value != value.quantize(Decimal("0.01")) or not Decimal("0.01") <= value <= MAX_AMOUNT:
            return None
        return value

    # --- the gateway ------------------------------------------------------------------------------------------
    @app.route("/gateway.do", methods=["GET", "POST"])
    def gateway() -> Response:
        params = {**request.args.to_dict(), **request.form.to_dict()}
        method = params.get("method", "")
        node = method.replace(".", "_") + "_response" if method in HANDLERS else "error_response"
        faults.delay()
        if faults.take_throttle() or faults.roll(faults.error_rate):
            return refused(node, "20000", "Service Currently Unavailable", "isp.unknow-error", "系统繁忙")
        problem = check(params, node)
        if problem is not None:
            return problem
        if method not in HANDLERS:
            return refused(node, "40002", "Invalid Arguments", "isv.invalid-method", "不存在的方法名")
        try:
            biz = json.loads(params.get("biz_content") or "{}")
        except ValueError:
            biz = None
        if not isinstance(biz, dict):
            return refused(node, "40002", "Invalid Arguments", "isv.invalid-biz-content", "biz_content不是JSON")
        with state.lock:
            return HANDLERS[method](node, biz, params)

    def page_pay(node: str, biz: dict[str, Any], params: dict[str, str]) -> Response:
        out_trade_no = biz.get("out_trade_no")
        total = amount(biz.get("total_amount"))
        if not isinstance(out_trade_no, str) or not out_trade_no or len(out_trade_no) > 64:
            return cashier("ACQ.INVALID_PARAMETER", "out_trade_no 无效", 400)
        if total is None or not biz.get("subject") or biz.get("product_code") != "FAST_INSTANT_TRADE_PAY":
            return cashier("ACQ.INVALID_PARAMETER", "total_amount, subject 或 product_code 无效", 400)
        trade = state.trades.get(out_trade_no)
        if trade is not None:
            if trade["total_amount"] != format(total, "f"):
                return cashier("ACQ.CONTEXT_INCONSISTENT", "交易信息被篡改", 400)
            if trade["trade_status"] != "WAIT_BUYER_PAY":
                return cashier("ACQ.TRADE_HAS_SUCCESS" if trade.get("gmt_payment") else "ACQ.TRADE_HAS_CLOSE",
                               "交易已支付或已关闭", 400)
        else:
            state.trades[out_trade_no] = {
                "out_trade_no": out_trade_no,
                "trade_no": clock().strftime("%Y%m%d") + f"22{secrets.randbelow(10**18):018d}",
                "total_amount": format(total, "f"), "subject": str(biz["subject"]), "trade_status": "WAIT_BUYER_PAY",
                "gmt_create": state.beijing(), "notify_url": params.get("notify_url", ""), "refunds": {},
                "refunded": Decimal(0)}
        return cashier("", f"{out_trade_no}: {format(total, 'f')} 元", 200)

    def cashier(error: str, text: str, status: int) -> Response:
        title = f"错误 {error}" if error else "支付宝收银台 (sandbox)"
        return Response(f"<html><body><h1>{title}</h1><p>{text}</p></body></html>", status=status,
                        mimetype="text/html")

    def trade_of(biz: dict[str, Any]) -> dict[str, Any] | None:
        if biz.get("out_trade_no"):
            return state.trades.get(str(biz["out_trade_no"]))
        return next((t for t in state.trades.values() if t["trade_no"] == biz.get("trade_no")), None)

    def query(node: str, biz: dict[str, Any], params: dict[str, str]) -> Response:
        trade = trade_of(biz)
        if trade is None:
            return business(node, "ACQ.TRADE_NOT_EXIST", "交易不存在")
        content = {"code": "10000", "msg": "Success", "trade_no": trade["trade_no"],
                   "out_trade_no": trade["out_trade_no"], "trade_status": trade["trade_status"],
                   "total_amount": trade["total_amount"], "buyer_logon_id": "buy***@example.com"}
        if trade.get("gmt_payment"):
            content.update(send_pay_date=trade["gmt_payment"], receipt_amount=trade["total_amount"],
                           buyer_pay_amount=trade["total_amount"], buyer_user_id="2088102177846880")
        return signed(node, content)

    def refund(node: str, biz: dict[str, Any], params: dict[str, str]) -> Response:
        trade = trade_of(biz)
        if trade is None:
            return business(node, "ACQ.TRADE_NOT_EXIST", "交易不存在")
        value = amount(biz.get("refund_amount"))
        if value is None:
            return business(node, "ACQ.INVALID_PARAMETER", "refund_amount 无效")
        request_no = str(biz.get("out_request_no") or trade["out_trade_no"])
        earlier = trade["refunds"].get(request_no)
        if earlier is not None:
            if earlier["refund_amount"] != format(value, "f"):
                return business(node, "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "退款金额与原请求不一致")
            return signed(node, {**earlier["answer"], "fund_change": "N"})
        if not trade.get("gmt_payment") or trade["trade_status"] == "TRADE_FINISHED":
            return business(node, "ACQ.TRADE_STATUS_ERROR", "交易状态不合法")
        total = Decimal(trade["total_amount"])
        if trade["refunded"] + value > total:
            return business(node, "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "退款金额超限")
        trade["refunded"] += value
        when = state.beijing()
        if trade["refunded"] == total:
            trade["trade_status"], trade["gmt_close"] = "TRADE_CLOSED", when
        answer = {"code": "10000", "msg": "Success", "trade_no": trade["trade_no"],
                  "out_trade_no": trade["out_trade_no"], "buyer_logon_id": "buy***@example.com",
                  "fund_change": "Y", "refund_fee": format(trade["refunded"], "f"), "gmt_refund_pay": when}
        trade["refunds"][request_no] = {"refund_amount": format(value, "f"), "answer": answer}
        state.refunds_made += 1
        state.notify(trade, refund_fee=format(trade["refunded"], "f"), gmt_refund=when, out_biz_no=request_no)
        return signed(node, answer)

    def close(node: str, biz: dict[str, Any], params: dict[str, str]) -> Response:
        trade = trade_of(biz)
        if trade is None:
            return business(node, "ACQ.TRADE_NOT_EXIST", "交易不存在")
        if trade["trade_status"] != "WAIT_BUYER_PAY":
            return business(node, "ACQ.TRADE_STATUS_ERROR", "交易状态不合法")
        trade["trade_status"], trade["gmt_close"] = "TRADE_CLOSED", state.beijing()
        state.notify(trade)
        return signed(node, {"code": "10000", "msg": "Success", "trade_no": trade["trade_no"],
                             "out_trade_no": trade["out_trade_no"]})

    HANDLERS: dict[str, Callable[[str, dict[str, Any], dict[str, str]], Response]] = {
        "alipay.trade.page.pay": page_pay, "alipay.trade.query": query, "alipay.trade.refund": refund,
        "alipay.trade.close": close,
    }

    # --- control ------------------------------------------------------------------------------------------------
    @app.post("/_sandbox/pay")
    def sandbox_pay() -> Response:
        data = request.get_json(silent=True) or {}
        with state.lock:
            trade = state.trades.get(str(data.get("out_trade_no")))
            if trade is None or trade["trade_status"] != "WAIT_BUYER_PAY":
                return Response(json.dumps({"error": "no trade waiting for payment"}), status=404,
                                mimetype="application/json")
            if data.get("decline"):
                trade["trade_status"], trade["gmt_close"] = "TRADE_CLOSED", state.beijing()
            else:
                trade["trade_status"], trade["gmt_payment"] = "TRADE_SUCCESS", state.beijing()
            state.notify(trade)
            return Response(json.dumps({"trade_no": trade["trade_no"], "trade_status": trade["trade_status"]}),
                            mimetype="application/json")

    @app.get("/_sandbox/notifications")
    def sandbox_notifications() -> Response:
        with state.lock:
            return Response(json.dumps(state.notifications, ensure_ascii=False), mimetype="application/json")

    @app.post("/_sandbox/faults")
    def sandbox_faults() -> Response:
        faults.update(**(request.get_json(silent=True) or {}))
        return Response(json.dumps({"ok": True}), mimetype="application/json")

    return app
