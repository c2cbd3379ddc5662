"""A small fixed-window rate limit: per process with Django's default (local-memory) cache, kept
in the cache when one is configured that processes share (Redis, memcached), so that all web
processes count together."""

import threading
import time

from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, caches

# Counts per (window length, window number) and key, for the local-memory cache's case. The
# local-memory cache is per process anyway, and it pickled the count under a lock on every
# webhook of a form channel (a tenth of the hook's CPU, bench_ingest); a dict does the same.
_windows: dict[tuple[int, int], dict[str, int]] = {}
_lock = threading.Lock()
# Cache backends that keep nothing outside the process (and hold no connection to close).
PER_PROCESS_CACHES = ("django.core.cache.backends.locmem.LocMemCache",
                      "django.core.cache.backends.dummy.DummyCache")


def rate_limited(key: str, *, limit: int, window_seconds: int) -> bool:
    """Counts one hit on `key`; True once more than `limit` hits fall in the current window."""
    window = int(time.time() // window_seconds)
    if settings.CACHES[DEFAULT_CACHE_ALIAS]["BACKEND"] in PER_PROCESS_CACHES:
        return _count_here(key, window_seconds, window) > limit
    return _count_in_cache(key, window_seconds, window) > limit


def reset() -> None:
    """Forgets every count kept in this process (tests: one test's refusals must not throttle
    the next; the shared cache's counts go with cache.clear())."""
    with _lock:
        _windows.clear()


def _count_here(key: str, window_seconds: int, window: int) -> int:
    with _lock:
        counts = _windows.get((window_seconds, window))
        if counts is None:
            for ended in [w for w in _windows if w[0] == window_seconds and w[1] < window]:
                del _windows[ended]  # a window that has passed is never read again
            counts = _windows[(window_seconds, window)] = {}
        counts[key] = hits = counts.get(key, 0) + 1
        return hits


def _count_in_cache(key: str, window_seconds: int, window: int) -> int:
    """The increment comes first: a key is counted far more often than it is new."""
    cache_key = f"rl:{key}:{window}"
    cache = caches[DEFAULT_CACHE_ALIAS]
    try:
        return cache.incr(cache_key)
    except ValueError:  # the window's first hit, or its key just expired
        pass
    if cache.add(cache_key, 1, timeout=window_seconds + 1):
        return 1
    try:
        return cache.incr(cache_key)
    except ValueError:
        cache.set(cache_key, 1, timeout=window_seconds + 1)
        return 1
