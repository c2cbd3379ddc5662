"""The active lead and event robots, as this process last read them.

Their subscribers run on the inbox's and the PBX's hot paths: every new lead asks for lead
robots, every call that ends and every customer message asks for event robots. A query each
made a 100-customer inbox batch 124 queries instead of under 40. Robots change rarely: a save
or delete in this process forgets the cache at once (post_save/post_delete, connected in
apps.py), another process's change is seen within TTL seconds.
"""

import time
from collections.abc import Callable

TTL = 2.0
_cache: dict[str, tuple[float, list]] = {}


def forget(**_kwargs) -> None:
    _cache.clear()


def cached(name: str, load: Callable[[], list]) -> list:
    now = time.monotonic()
    hit = _cache.get(name)
    if hit is None or hit[0] < now:
        hit = (now + TTL, load())
        _cache[name] = hit
    return hit[1]
