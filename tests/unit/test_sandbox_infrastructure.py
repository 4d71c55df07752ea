import requests
from flask import Flask

from hub.sandbox.faults import Faults
from hub.sandbox.ratelimit import TokenBucket
from hub.sandbox.server import running, running_mount


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_a_token_bucket_allows_its_burst_then_refills_at_its_rate():
    clock = Clock()
    bucket = TokenBucket(rate=0.5, burst=3, clock=clock)
    assert [bucket.take() for _ in range(3)] == [None, None, None]
    assert bucket.take() == 2.0  # one token at 0.5/s
    clock.now = 2.0
    assert bucket.take() is None
    assert bucket.take(cost=2) == 4.0


def test_fault_knobs_are_seeded_and_refuse_unknown_names():
    first, second = Faults(error_rate=0.5, seed=7), Faults(error_rate=0.5, seed=7)
    assert [first.roll(0.5) for _ in range(20)] == [second.roll(0.5) for _ in range(20)]
    faults = Faults(throttle_burst=2)
    assert [faults.take_throttle() for _ in range(3)] == [True, True, False]
    try:
        faults.update(nonsense=1)
    except ValueError as exc:
        assert "nonsense" in str(exc)
    else:
        raise AssertionError("expected a ValueError")


def test_a_sandbox_is_served_over_real_http_on_loopback():
    app = Flask("probe")
    app.add_url_rule("/ping", "ping", lambda: {"pong": True})
    with running(app) as base:
        assert base.startswith("http://127.0.0.1:")
        assert requests.get(f"{base}/ping", timeout=5).json() == {"pong": True}


def test_a_mount_serves_whichever_app_is_mounted_and_503_while_empty():
    first, second = Flask("first"), Flask("second")
    first.add_url_rule("/who", "who", lambda: {"app": "first"})
    second.add_url_rule("/who", "who", lambda: {"app": "second"})
    with running_mount("probe") as (mount, base):
        assert base.startswith("http://127.0.0.1:")
        assert requests.get(f"{base}/who", timeout=5).status_code == 503
        mount.app = first
        assert requests.get(f"{base}/who", timeout=5).json() == {"app": "first"}
        mount.app = second
        assert requests.get(f"{base}/who", timeout=5).json() == {"app": "second"}
        assert requests.get(f"{base}/missing", timeout=5).status_code == 404
        mount.app = None
        assert requests.get(f"{base}/who", timeout=5).status_code == 503
