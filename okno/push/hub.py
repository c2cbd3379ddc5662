"""One poller per push process hands new pushes to the connections it holds.

A process holds hundreds of employees' connections; each poll is one indexed range query on
the push ids, however many are connected, so the database sees the same load for 5 tabs as for
500. The poll interval bounds the added latency (docs/architecture.md, "Live pushes").
"""

import asyncio
import logging

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections

from okno.push.services import Delivery, push_latest_id, pushes_after

log = logging.getLogger(__name__)


def _poll(after_id: int | None) -> tuple[int, list[Delivery]]:
    # The poller's thread keeps its connection (CONN_MAX_AGE) but must notice a broken one.
    close_old_connections()
    if after_id is None:
        return push_latest_id(), []
    found = pushes_after(after_id)
    return (found[-1].id if found else after_id), found


class PushHub:
    def __init__(self, interval: float | None = None) -> None:
        self.interval = interval if interval is not None else settings.OKNO_PUSH_POLL_SECONDS
        self.queues: dict[int, set[asyncio.Queue]] = {}
        self.last_id: int | None = None
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
                self.last_id, found = await poll(self.last_id)
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
