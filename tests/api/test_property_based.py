"""Property-based: requests generated from the OpenAPI document itself (schemathesis, in-process over
WSGI, offline, derandomized so every run sends the same requests) never get a 5xx, and every error
is in the single error shape. This is what found NUL characters crashing PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.api_support import API
from tests.api.conftest import build_world

schemathesis = pytest.importorskip("schemathesis")
hypothesis = pytest.importorskip("hypothesis")

EXAMPLES = 25  # per operation and mode; about 10 s on SQLite


def test_generated_requests_never_crash_the_api_and_errors_keep_their_shape(app, alice, api_for):
    build_world(api_for(alice))
    schema = schemathesis.openapi.from_wsgi(f"{API}/openapi.json", app)
    problems: list[str] = []
    operations = 0

    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
            sender(operation, mode, alice.token, problems)()

    assert operations >= 14
    assert not problems, "\n".join(problems[:10])


def sender(operation: Any, mode: Any, token: str, problems: list[str]) -> Any:
    """A hypothesis test sending generated requests for one operation, noting every problem."""

    @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
    @hypothesis.settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                         suppress_health_check=list(hypothesis.HealthCheck),
                         phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate])
    def send(case: Any) -> None:
        response = case.call(headers={"Authorization": f"Bearer {token}"})
        text = response.text
        where = f"{operation.label} ({mode.value}): {response.status_code}"
        if response.status_code >= 500:
            problems.append(f"{where}: {text[:200]} for body={getattr(case, 'body', None)!r:.200} "
                            f"query={case.query!r:.200} path={case.path_parameters!r}")
        elif response.status_code >= 400 and not text.startswith('{"error":{"code":'):
            problems.append(f"{where}: not the error shape: {text[:200]}")
        if "Traceback (most recent call last)" in text:
            problems.append(f"{where}: a traceback leaked: {text[:200]}")

    return send
