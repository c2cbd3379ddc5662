"""The fixed-window rate limit: counted in the process with the local-memory cache, in the cache
when one that processes share is configured."""

import pytest
from django.core.cache import caches
from django.test import override_settings

from okno.core import ratelimit
from okno.core.ratelimit import rate_limited

SHARED = {"default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": ""}}


@pytest.fixture(params=["process", "shared cache"])
def where(request, tmp_path):
    if request.param == "process":
        yield request.param
        return
    with override_settings(CACHES={"default": {**SHARED["default"], "LOCATION": str(tmp_path)}}):
        yield request.param
        caches["default"].clear()


def test_hits_over_the_limit_are_limited_per_key_and_window(where, monkeypatch):
    # given a limit of two hits a minute, at a fixed time
    monkeypatch.setattr(ratelimit.time, "time", lambda: 600.0)
    # then the third hit on one key is limited, another key is not
    assert [rate_limited("a", limit=2, window_seconds=60) for _ in range(3)] == [False, False, True]
    assert rate_limited("b", limit=2, window_seconds=60) is False
    # when the next minute begins, the key starts again
    monkeypatch.setattr(ratelimit.time, "time", lambda: 660.0)
    assert rate_limited("a", limit=2, window_seconds=60) is False


def test_with_a_shared_cache_the_count_is_in_the_cache_where_other_processes_read_it(tmp_path, monkeypatch):
    monkeypatch.setattr(ratelimit.time, "time", lambda: 600.0)
    with override_settings(CACHES={"default": {**SHARED["default"], "LOCATION": str(tmp_path)}}):
        for _ in range(3):
            rate_limited("form:x:127.0.0.1", limit=5, window_seconds=60)
        assert caches["default"].get("rl:form:x:127.0.0.1:10") == 3
        caches["default"].clear()
    assert ratelimit._windows == {}


def test_in_the_process_a_window_that_has_passed_is_dropped(monkeypatch):
    # given counts in one minute
    monkeypatch.setattr(ratelimit.time, "time", lambda: 600.0)
    rate_limited("a", limit=5, window_seconds=60)
    # when a hit comes a minute later
    monkeypatch.setattr(ratelimit.time, "time", lambda: 661.0)
    rate_limited("b", limit=5, window_seconds=60)
    # then only the current minute is kept
    assert ratelimit._windows == {(60, 11): {"b": 1}}
