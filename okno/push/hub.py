"""One poller per push process hands new pushes to the connections it holds.

A process holds hundreds of employees' connections; each poll is one indexed range query on
the push ids, however many are connected, so the database sees the same load for 5 tabs as for
500. The poll interval bounds the added latency (docs/architecture.md, "Live pushes").
"""

import asyncio
import logging
import time

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections

from okno.push.services import Delivery, push_latest_id, pushes_after, pushes_with_ids

log = logging.getLogger(__name__)

# A push id below the newest one seen may still appear: ids are taken when a row is inserted,
# rows become visible when their transaction commits, and two writers commit in either order. The
# ids skipped over (holes) are asked for again for this long; past it the hole was a rolled-back
# insert or a conflict's burnt id (push_send's ON CONFLICT DO NOTHING), and is forgotten.
HOLE_SECONDS = 5.0
MAX_HOLES = 5000


def _poll(after_id: int | None, holes: dict[int, float]) -> tuple[int, list[Delivery]]:
    # The poller's thread keeps its connection (CONN_MAX_AGE) but must notice a broken one.
    close_old_connections()
    if after_id is None:
        return push_latest_id(), []
    late = pushes_with_ids(list(holes)) if holes else []
    found = pushes_after(after_id)
    now = time.monotonic()
    for delivery in late:
        holes.pop(delivery.id, None)
    expected = after_id + 1
    for delivery in found:
        for missing in range(expected, delivery.id):
            if len(holes) < MAX_HOLES:
                holes[missing] = now
        expected = delivery.id + 1
    for hole, seen in list(holes.items()):
        if now - seen > HOLE_SECONDS:
            del holes[hole]
    return (found[-1].id if found else after_id), late + found


class PushHub:
    def __init__(self, interval: float | None = None) -> None:
        self.interval = interval if interval is not None else settings.OKNO_PUSH_POLL_SECONDS
        self.queues: dict[int, set[asyncio.Queue]] = {}
        self.last_id: int | None = None
        self.holes: dict[int, float] = {}  # push ids skipped over, still to come (see HOLE_SECONDS)
        self._task: asyncio.Task | None = None
        self._started = asyncio.Event()

    async def subscribe(self, user_id: int) -> asyncio.Queue:
        """A queue of this user's pushes from now on (the caller must unsubscribe it)."""
        queue: asyncio.Queue = asyncio.Queue(maxsize=100)
        self.queues.setdefault(user_id, set()).add(queue)
        if self._task is None or self._task.done():
            self._started.clear()
            self._task = asyncio.get_running_loop().create_task(self._run())
        await self._started.wait()
        return queue

    def unsubscribe(self, user_id: int, queue: asyncio.Queue) -> None:
        queues = self.queues.get(user_id)
        if queues is not None:
            queues.discard(queue)
            if not queues:
                del self.queues[user_id]

    def _deliver(self, found: list[Delivery]) -> None:
        for delivery in found:
            for queue in self.queues.get(delivery.user_id, ()):
                if queue.full():  # a stalled tab loses its oldest pop, never stalls the others
                    queue.get_nowait()
                queue.put_nowait(delivery)

    async def _run(self) -> None:
        poll = sync_to_async(_poll, thread_sensitive=False)
        while True:
            try:
                self.last_id, found = await poll(self.last_id, self.holes)
                self._started.set()
                self._deliver(found)
            except Exception:  # a database hiccup must not end every connection's stream
                log.exception("push poll failed")
            self._started.set()
            await asyncio.sleep(self.interval)


_hubs: dict[asyncio.AbstractEventLoop, PushHub] = {}


def get_hub() -> PushHub:
    """The running event loop's hub: a server has one loop; tests start a loop per request."""
    loop = asyncio.get_running_loop()
    for other in [k for k in _hubs if k.is_closed()]:
        del _hubs[other]
    if loop not in _hubs:
        _hubs[loop] = PushHub()
    return _hubs[loop]
