"""The bench's database side: channels and people, counting and checking rows, polling leads."""

import random
import statistics
import threading
import time
import uuid

from django.db import close_old_connections, connection

from bench.ingest import wrk
from bench.ingest.cpu import Meter
from bench.ingest.load import closed_loop, form_body, open_loop, request_bytes
from bench.ingest.raw import raw_insert_rate

BENCH_DEPARTMENT = "bench-ingest"
# All bench traffic comes from 127.0.0.1: the form channel's per-address limit is lifted.
CHANNEL_SETTINGS = {"submissions_per_minute": 10**9}


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 3)


class Bench:
    def __init__(self) -> None:
        from django.utils import timezone

        from okno.contacts.models import ContactPhone
        from okno.deals.models import Lead
        from okno.inbox.models import InboundEvent
        from okno.people.models import Department, User

        self.run = uuid.uuid4().hex[:8]
        # Leftovers of an interrupted run must not feed this run's workers.
        InboundEvent.objects.filter(status=InboundEvent.Status.RECEIVED).update(
            status=InboundEvent.Status.IGNORED, error="bench: left by an earlier run")
        # Nor the leads earlier runs and other benchmarks left (bench_jivo seeds a history of
        # them), unread by anyone: their reminders, due by now (OKNO_LEAD_REMIND_MINUTES), had
        # this run's workers mail 20,000 managers between its events, 2-3 ms each.
        Lead.objects.filter(reminded_at__isnull=True).update(reminded_at=timezone.now())
        # Every event is a new customer: a phone block no card has yet.
        rng = random.Random()
        while True:
            self.prefix = f"{rng.randrange(1000):03d}"
            if not ContactPhone.objects.filter(e164__startswith=f"+79{self.prefix}").exists():
                break
        self.next_n = 0
        dept, _ = Department.objects.get_or_create(name=BENCH_DEPARTMENT)
        for i in range(3):
            User.objects.get_or_create(username=f"bench-ingest-{i}", defaults={
                "department": dept, "role": User.Role.MANAGER, "at_work": True, "first_name": f"Менеджер {i}"})
        self.department = dept
        self.channels: list = []

    def vacuum(self) -> None:
        """The VACUUM ANALYZE autovacuum would run (it is off on these machines): every table past
        autovacuum's default thresholds (dead rows > 50 + 20 % of the live ones, rows changed
        since the last ANALYZE > 50 + 10 %). Each ingest layout stores and deletes tens of
        thousands of events, and the worker's claims then walked every dead row's index entry
        (900,000 dead rows after a day's runs: idle pick-up 0.11 -> 0.43 s, the rate with
        p99 < 2 s 250 -> 100/s); the latency steps grow tables analysed when they were empty."""
        if connection.vendor != "postgresql":
            return
        with connection.cursor() as cursor:
            cursor.execute("SELECT relname FROM pg_stat_user_tables WHERE n_dead_tup > 50 + 0.2 * n_live_tup "
                           "OR n_mod_since_analyze > 50 + 0.1 * n_live_tup")
            for (table,) in cursor.fetchall():
                cursor.execute(f'VACUUM ANALYZE "{table}"')

    def channel(self, purpose: str):
        from okno.inbox.models import Channel

        ch = Channel.objects.create(kind="form", name=f"bench {purpose} {self.run}", department=self.department,
                                    settings=CHANNEL_SETTINGS)
        self.channels.append(ch)
        return ch

    def requests(self, channel, port: int, count: int) -> tuple[int, list[bytes]]:
        first = self.next_n
        self.next_n += count
        return first, [request_bytes(channel.webhook_path, port, form_body(first + i, run=self.run,
                                                                          phone_prefix=self.prefix))
                       for i in range(count)]

    def raw(self, *, seconds: float, clients: int) -> dict:
        from okno.inbox.models import InboundEvent

        ch = self.channel("raw")
        bodies = [form_body(i, run=self.run, phone_prefix=self.prefix) for i in range(int(seconds * 8000))]
        res = raw_insert_rate(channel_id=ch.pk, bodies=bodies, clients=clients, seconds=seconds)
        InboundEvent.objects.filter(channel=ch).delete()
        return res

    def warm_up(self, *, port: int, clients: int) -> None:
        """A few hundred events through web and workers (imports, connections, caches) before
        anything is timed, then until they are all processed."""
        ch = self.channel("warm-up")
        _first, reqs = self.requests(ch, port, 300)
        closed_loop(port=port, requests=reqs, clients=clients, seconds=2.0)
        self.wait_idle(timeout=60)

    def ingest(self, *, port: int, clients: int, seconds: float, web_pgid: int | None = None) -> dict:
        """Closed-loop POSTs for `seconds`; the stored rows are counted, then deleted (never processed)."""
        from okno.inbox.models import InboundEvent

        ch = self.channel("ingest")
        _first, reqs = self.requests(ch, port, int(seconds * 5000))
        closed_loop(port=port, requests=reqs[:200], clients=clients, seconds=1.0)  # warm-up: imports, connections
        InboundEvent.objects.filter(channel=ch).delete()
        meter = Meter(web_pgid=web_pgid).start()
        res = closed_loop(port=port, requests=reqs[200:], clients=clients, seconds=seconds)
        res["cpu"] = meter.stop(res["ok"])
        res["stored"] = InboundEvent.objects.filter(channel=ch).count()
        InboundEvent.objects.filter(channel=ch).delete()
        return res

    def ingest_wrk(self, *, port: int, clients: int, seconds: int, web_pgid: int | None = None) -> dict:
        """As ingest, the load from wrk; stored may exceed acknowledged by the requests in flight
        when wrk stopped counting (at most one per connection)."""
        from okno.inbox.models import InboundEvent

        # The warm-up on a channel of its own: its requests still in flight when wrk stops are
        # stored after it, and must not count as the measured run's.
        warm, ch = self.channel("ingest-wrk warm-up"), self.channel("ingest-wrk")
        first = self.next_n
        count = seconds * 8000 + 400  # beyond any rate here: a body sent twice would not be stored
        self.next_n += count
        bodies = [form_body(first + i, run=self.run, phone_prefix=self.prefix) for i in range(count)]
        wrk.closed_loop(port=port, path=warm.webhook_path, bodies=bodies[:400], connections=clients, seconds=1)
        meter = Meter(web_pgid=web_pgid, children=True).start()
        res = wrk.closed_loop(port=port, path=ch.webhook_path, bodies=bodies[400:], connections=clients,
                              seconds=seconds)
        res["cpu"] = meter.stop(res["ok"])
        InboundEvent.objects.filter(channel=warm).delete()
        res["stored"] = InboundEvent.objects.filter(channel=ch).count()
        InboundEvent.objects.filter(channel=ch).delete()
        res["checked"] = res["ok"] <= res["stored"] <= res["ok"] + clients and res["failed"] == 0 \
            and not res["exhausted"]
        return res

    def _lead_times(self, channel, first: int, count: int, stop: threading.Event, seen: dict, interval: float):
        """Polls the leads table as a manager's screen would; records when each event's lead shows up."""
        from okno.deals.models import Lead

        last = 0
        sweep_at = time.monotonic() + 2
        try:
            while not stop.is_set() and len(seen) < count:
                full = time.monotonic() > sweep_at
                qs = Lead.objects.filter(channel=channel) if full else Lead.objects.filter(channel=channel,
                                                                                            id__gt=last - 50)
                rows = list(qs.values_list("id", "title"))
                now = time.time()
                for pk, title in rows:
                    n = int(title.split(":", 1)[0].split()[1]) - first
                    if 0 <= n < count and n not in seen:
                        seen[n] = now
                    last = max(last, pk)
                if full:
                    sweep_at = time.monotonic() + 2
                time.sleep(interval)
        finally:
            connection.close()

    def latency(self, *, port: int, rate: int, seconds: float, wait: float = 30.0) -> dict:
        ch = self.channel(f"latency {rate}")
        count = int(rate * seconds)
        first, reqs = self.requests(ch, port, count)
        seen: dict[int, float] = {}
        stop = threading.Event()
        poller = threading.Thread(target=self._lead_times, args=(ch, first, count, stop, seen, 0.02), daemon=True)
        poller.start()
        sent = open_loop(port=port, requests=reqs, rate=rate)
        deadline = time.monotonic() + wait
        while len(seen) < count and time.monotonic() < deadline:
            time.sleep(0.1)
        stop.set()
        poller.join()
        lat = [seen[i] - sent["sent_at"][i] for i in seen]
        return {"p50": _pct(lat, 0.5), "p99": _pct(lat, 0.99), "lost": count - len(seen), "failed": sent["failed"]}

    def wait_idle(self, *, timeout: float) -> None:
        from okno.inbox.models import InboundEvent

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not InboundEvent.objects.filter(status=InboundEvent.Status.RECEIVED).exists():
                return
            time.sleep(0.5)

    def idle_pickup(self, *, port: int, reps: int) -> dict:
        ch = self.channel("idle")
        first, reqs = self.requests(ch, port, reps)
        lat = []
        for i, req in enumerate(reqs):
            time.sleep(0.3 + random.random() * 0.2)  # land anywhere in the worker's idle sleep
            seen: dict[int, float] = {}
            stop = threading.Event()
            poller = threading.Thread(target=self._lead_times, args=(ch, first + i, 1, stop, seen, 0.005))
            poller.start()
            sent = open_loop(port=port, requests=[req], rate=1, clients=1)
            poller.join(10)
            stop.set()
            poller.join()
            if 0 in seen:
                lat.append(seen[0] - sent["sent_at"][0])
        return {"p50": _pct(lat, 0.5), "n": len(lat), "mean": round(statistics.mean(lat), 3) if lat else None}

    def store_for_replay(self, *, port: int, events: int, clients: int) -> int:
        from okno.inbox.models import InboundEvent

        ch = self.channel("kill")
        self.kill_channel = ch
        _first, reqs = self.requests(ch, port, events)
        closed_loop(port=port, requests=reqs, clients=clients, seconds=600)
        return InboundEvent.objects.filter(channel=ch, status=InboundEvent.Status.RECEIVED).count()

    def done_count(self) -> int:
        from okno.inbox.models import InboundEvent

        return InboundEvent.objects.filter(channel=self.kill_channel, status=InboundEvent.Status.DONE).count()

    def wait_done(self, *, more_than: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self.done_count() <= more_than and time.monotonic() < deadline:
            time.sleep(0.05)

    def replay_check(self, *, events: int, timeout: float) -> dict:
        from okno.deals.models import Lead
        from okno.inbox.models import Conversation, InboundEvent, Message

        ch = self.kill_channel
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not InboundEvent.objects.filter(channel=ch).exclude(status=InboundEvent.Status.DONE).exists():
                break
            time.sleep(0.5)
        close_old_connections()
        counts = {
            "events done": InboundEvent.objects.filter(channel=ch, status=InboundEvent.Status.DONE).count(),
            "conversations": Conversation.objects.filter(channel=ch).count(),
            "messages": Message.objects.filter(conversation__channel=ch).count(),
            "leads": Lead.objects.filter(channel=ch).count(),
            "cards": Conversation.objects.filter(channel=ch).values("contact").distinct().count(),
        }
        problems = [f"{k} {v}" for k, v in counts.items() if v != events]
        reclaimed = InboundEvent.objects.filter(channel=ch, attempts__gt=1).count()
        return {"problems": problems, "reclaimed": reclaimed, **counts}

    def close(self) -> None:
        connection.close()
