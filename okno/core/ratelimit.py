"""A small fixed-window rate limit kept in Django's cache (per process with the default cache)."""

import time

from django.core.cache import DEFAULT_CACHE_ALIAS, caches


def rate_limited(key: str, *, limit: int, window_seconds: int) -> bool:
    """Counts one hit on `key`; True once more than `limit` hits fall in the current window.

    The increment comes first: a key is counted far more often than it is new, and every
    webhook of a form channel counts one (one cache operation instead of two per hook)."""
    window = int(time.time() // window_seconds)
    cache_key = f"rl:{key}:{window}"
    cache = caches[DEFAULT_CACHE_ALIAS]
    try:
        return cache.incr(cache_key) > limit
    except ValueError:  # the window's first hit, or its key just expired
        pass
    if cache.add(cache_key, 1, timeout=window_seconds + 1):
        return 1 > limit
    try:
        return cache.incr(cache_key) > limit
    except ValueError:
        cache.set(cache_key, 1, timeout=window_seconds + 1)
        return False
