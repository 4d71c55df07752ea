"""How API endpoints are declared: one decorator validates, authenticates, commits and documents.

    @api.route("/products", methods=["POST"])
    @operation(body=ProductIn, response=ProductOut, status=201, summary="Create a product")
    def create_product(actor, body): ...

The same pydantic models validate the request and generate the OpenAPI document (`openapi_spec`),
so the document cannot drift from the behaviour.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from apispec import APISpec
from flask import Flask, Response, jsonify, request
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from hub.accounts.actor import Actor
from hub.accounts.services import actor_for, user_for_token
from hub.errors import AuthenticationFailed, ValidationError
from hub.extensions import db, rescope
from hub.validation import nul_characters, parse, refuse

API_PREFIX = "/api/v1"
_REF = "#/components/schemas/{model}"


class UnsupportedMediaType(ValidationError):
    code = "unsupported_media_type"
    http_status = 415


@dataclass(frozen=True)
class Operation:
    summary: str
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    response: type[BaseModel] | None
    status: int
    errors: tuple[int, ...]
    authenticated: bool
    tag: str


def authenticate() -> Actor:
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise AuthenticationFailed("send an API token as 'Authorization: Bearer <token>'", code="no_token")
    session = db()
    user = user_for_token(session, secret.strip())
    actor = actor_for(user)
    rescope(actor)
    if session.dirty:
        session.commit()  # keeps last_used_at even when the request itself fails later
    return actor


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def json_body() -> Any:
    if not request.get_data():  # reading the body enforces MAX_CONTENT_LENGTH (413)
        raise ValidationError("the request needs a JSON body", code="missing_body")
    if not request.is_json:
        raise UnsupportedMediaType("send the body as JSON with 'Content-Type: application/json'")
    try:
        # Decimal, not float: amounts keep their exact digits, and a number is never taken for a string.
        return json.loads(request.get_data(as_text=True), parse_float=Decimal, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationError(f"malformed JSON: {exc}", code="malformed_json") from None
    except RecursionError:
        raise ValidationError("malformed JSON: nested too deeply", code="malformed_json") from None


@functools.cache
def _json_schema(model: type[BaseModel]) -> dict[str, Any]:
    return model.model_json_schema()


def _lax_coercions(schema: dict[str, Any], defs: dict[str, Any], value: Any, path: str,
                   errors: dict[str, str]) -> None:
    """Name the JSON values of a type the documented schema refuses but pydantic's lax mode would coerce:
    true/false for a number (taken as 1/0) and a number for a date-time (taken as a Unix timestamp)."""
    variants = [defs[v["$ref"].rsplit("/", 1)[-1]] if "$ref" in v else v
                for v in schema.get("anyOf", [schema])]
    types = {v.get("type") for v in variants}
    if isinstance(value, bool):
        if "boolean" not in types and types & {"integer", "number"}:
            errors[path or "body"] = "Input should be a number, not true or false"
    elif isinstance(value, int | Decimal):
        if not types & {"integer", "number"} and any(v.get("format") in ("date-time", "date") for v in variants):
            errors[path or "body"] = "Input should be a date-time string such as 2026-11-25T10:00:00Z"
    elif isinstance(value, dict):
        for variant in variants:
            for name, item in value.items():
                if name in variant.get("properties", {}):
                    _lax_coercions(variant["properties"][name], defs, item, f"{path}.{name}" if path else name,
                                   errors)
    elif isinstance(value, list):
        for variant in variants:
            if "items" in variant:
                for i, item in enumerate(value):
                    _lax_coercions(variant["items"], defs, item, f"{path}[{i}]", errors)


def parse_body(model: type[BaseModel]) -> BaseModel:
    data = json_body()
    schema = _json_schema(model)
    errors = nul_characters(data)
    _lax_coercions(schema, schema.get("$defs", {}), data, "", errors)
    refuse(errors)
    return parse(model, data)


def no_body() -> None:
    """An operation without a body accepts none, or an empty JSON object; anything else is a mistake."""
    if not request.get_data().strip():
        return
    if json_body() != {}:
        raise ValidationError("this endpoint takes no request body", code="unexpected_body")


def query_args(schema: type[BaseModel] | None) -> dict[str, Any]:
    known = set(schema.model_fields) if schema is not None else set()
    unknown = sorted(set(request.args) - known)
    if unknown:
        raise ValidationError(f"unknown query parameter(s): {', '.join(unknown)}",
                              fields={name: "unknown parameter" for name in unknown})
    repeated = sorted(name for name, values in request.args.lists() if len(values) > 1)
    if repeated:
        raise ValidationError(f"query parameter(s) given more than once: {', '.join(repeated)}",
                              fields={name: "given more than once" for name in repeated})
    return {k: v for k, v in request.args.items() if v != ""}


def operation(*, summary: str, body: type[BaseModel] | None = None, query: type[BaseModel] | None = None,
              response: type[BaseModel] | None = None, status: int = 200, errors: tuple[int, ...] = (),
              authenticated: bool = True, tag: str = "") -> Callable:
    meta = Operation(summary, body, query, response, status, errors, authenticated, tag)

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(**path_args: Any) -> Response | tuple[Response, int]:
            kwargs: dict[str, Any] = dict(path_args)
            if meta.authenticated:
                kwargs["actor"] = authenticate()
            args = query_args(meta.query)
            if meta.query is not None:
                kwargs["query"] = parse(meta.query, args)
            if meta.body is not None:
                kwargs["body"] = parse_body(meta.body)
            else:
                no_body()
            result = view(**kwargs)
            db().commit()
            if result is None:
                return Response(status=204)
            payload = result.model_dump(mode="json") if isinstance(result, BaseModel) else result
            return jsonify(payload), meta.status

        wrapper.openapi = meta  # type: ignore[attr-defined]
        return wrapper

    return decorate


# --- the OpenAPI document --------------------------------------------------------------------

_ERROR_SCHEMA = {
    "type": "object", "required": ["error"],
    "properties": {"error": {"type": "object", "required": ["code", "message", "fields"], "properties": {
        "code": {"type": "string"}, "message": {"type": "string"},
        "fields": {"type": "object", "additionalProperties": {"type": "string"}}}}},
}


_WRITES = {"post", "put", "patch", "delete"}


def _path(rule: str) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule)


def openapi_spec(app: Flask) -> dict[str, Any]:
    spec = APISpec(title="Order Hub API", version="1", openapi_version="3.1.0",
                   info={"description": "Goods, stock and orders of one seller. Every error has the shape "
                                        "`{\"error\": {\"code\", \"message\", \"fields\"}}`."})
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    spec.components.schema("Error", _ERROR_SCHEMA)
    ops: list[tuple[str, str, Operation, list[str]]] = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions.get(rule.endpoint)
        meta = getattr(view, "openapi", None)
        if meta is None:
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            ops.append((_path(rule.rule), method.lower(), meta, sorted(rule.arguments)))
    models = {m for _, _, meta, _ in ops for m in (meta.body, meta.response, meta.query) if m}
    _, defs = models_json_schema(
        [(m, "validation") for m in sorted(models, key=lambda m: m.__name__)], ref_template=_REF)
    for name, schema in sorted(defs.get("$defs", {}).items()):
        spec.components.schema(name, schema)

    paths: dict[str, dict[str, Any]] = {}
    for path, method, meta, args in ops:
        op: dict[str, Any] = {"summary": meta.summary, "tags": [meta.tag] if meta.tag else [],
                              "operationId": f"{method}_{path.strip('/').replace('/', '_')}".replace("{", "")
                              .replace("}", ""), "responses": {}}
        params = [{"name": a, "in": "path", "required": True, "schema": {"type": "integer"}} for a in args]
        if meta.query is not None:
            qschema = meta.query.model_json_schema(ref_template=_REF)
            for name, prop in qschema.get("properties", {}).items():
                params.append({"name": name, "in": "query", "required": name in qschema.get("required", []),
                               "schema": prop, "description": prop.get("description", "")})
        if params:
            op["parameters"] = params
        if meta.body is not None:
            op["requestBody"] = {"required": True, "content": {"application/json": {
                "schema": {"$ref": _REF.format(model=meta.body.__name__)}}}}
        ok: dict[str, Any] = {"description": "OK" if meta.response is not None else "No content"}
        if meta.response is not None:
            ok["content"] = {"application/json": {"schema": {"$ref": _REF.format(model=meta.response.__name__)}}}
        op["responses"][str(meta.status if meta.response is not None else 204)] = ok
        codes = set(meta.errors) | {422} | ({400, 413, 415} if method in _WRITES else set()) | (
            {401, 403} if meta.authenticated else set()) | ({404} if args else set())
        for code in sorted(codes):
            op["responses"][str(code)] = {"description": "Error", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Error"}}}}
        if meta.authenticated:
            op["security"] = [{"bearer": []}]
        paths.setdefault(path, {})[method] = op
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()


def next_cursor(items: list[Any], limit: int) -> int | None:
    """Keyset cursor for the next page, or None when this was the last."""
    return items[-1].id if len(items) == limit else None
