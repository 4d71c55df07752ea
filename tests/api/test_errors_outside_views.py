"""Errors raised before or outside an API view (routing, method, crashes) still use the single
error shape under /api/v1, and never leak a traceback."""

from __future__ import annotations

import pytest

from tests.api.api_support import API, assert_api_error


@pytest.mark.parametrize("path", ["/nope", "/products/1/nope", "/orders/abc", "/products/-1", "/", "",
                                  "/openapi.yaml", "/products/1/", "/PRODUCTS"])
@pytest.mark.parametrize("with_token", [True, False], ids=["with token", "without token"])
def test_an_unknown_api_path_is_404_in_the_error_shape(path, with_token, client, alice):
    headers = {"Authorization": f"Bearer {alice.token}"} if with_token else {}
    response = client.get(f"{API}{path}", headers=headers)
    error = assert_api_error(response, 404, "not_found")
    assert error["message"] == "no such endpoint"


@pytest.mark.parametrize(("method", "path", "allowed"), [
    ("PATCH", "/products", {"GET", "POST"}),
    ("DELETE", "/orders", {"GET", "POST"}),
    ("PUT", "/orders/1", {"GET"}),
    ("GET", "/orders/1/cancel", {"POST"}),
    ("POST", "/products/1", {"GET", "PUT", "DELETE"}),
    ("DELETE", "/stock/receipts", {"POST"}),
    ("POST", "/openapi.json", {"GET"}),
])
def test_a_wrong_method_is_405_in_the_error_shape_with_an_allow_header(method, path, allowed, client, alice):
    response = client.open(f"{API}{path}", method=method, json={},
                           headers={"Authorization": f"Bearer {alice.token}"})
    error = assert_api_error(response, 405, "method_not_allowed")
    allow = {m.strip() for m in response.headers["Allow"].split(",")}
    assert allowed <= allow
    for name in allowed:
        assert name in error["message"]


def test_a_crash_inside_an_api_view_is_a_500_in_the_error_shape_without_a_traceback(app, client, caplog):
    def boom():
        raise RuntimeError("secret internals: password=hunter2")

    app.add_url_rule(f"{API}/_boom", "api_boom_for_test", boom)
    response = client.get(f"{API}/_boom")
    assert response.status_code == 500
    assert response.json == {"error": {"code": "internal", "fields": {},
                                       "message": "something went wrong on our side; it has been logged"}}
    assert "hunter2" not in response.get_data(as_text=True)
    assert any("unhandled error" in r.getMessage() for r in caplog.records)


def test_an_oversized_request_is_413_in_the_error_shape_even_without_a_token(client):
    response = client.post(f"{API}/products", data=b"x" * (1024 * 1024 + 1), content_type="application/json")
    assert response.status_code in (401, 413)
    assert_api_error(response)


def test_outside_the_api_errors_stay_html(client):
    response = client.get("/definitely-not-a-page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
