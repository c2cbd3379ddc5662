"""The live AMI listener behind `manage.py run_ami`: one thread per active Asterisk channel.

Each listener logs in (`Events: call,cdr,dialplan,user`), reads the event stream, keeps the call-flow events
(okno.telephony.adapters.asterisk.ami_event_wanted) and stores them as InboundEvent rows of its
channel, a small batch at a time (every FLUSH_SECONDS or FLUSH_EVENTS events), before anything
else happens to them; the worker's inbox drain turns them into calls like any channel's events.

Nothing is lost or doubled by the listener itself: an event is stored with the hash of its own
fields as its dedup key, so a second listener on another machine, reading the same PBX for
redundancy, stores nothing twice (the unique key drops the copy); a connection that drops keeps
what it buffered and stores it before reconnecting; a packet cut by the drop is never parsed.
What AMI sent while no listener was connected is gone (Asterisk keeps no backlog for a closed
session): that is what the second listener is for.

Reconnects back off exponentially (1 s doubling to 60 s) after a refused login or a failed
connection, and start over from 1 s after a session that stayed up STABLE_SECONDS. A silent
connection is probed with `Action: Ping` every PING_SECONDS; one that does not answer is dropped
and reconnected. When the database is down, events wait in memory (up to MAX_BUFFERED; the oldest
go first past that, logged) and are retried every second.
"""

import logging
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.db import DatabaseError, close_old_connections, connection, transaction
from django.utils import timezone

from okno.core.bulk import insert_rows
from okno.inbox.models import Channel, InboundEvent
from okno.telephony.adapters.asterisk import DEFAULT_PORT, ami_dedup_key, ami_event_body, ami_event_wanted
from okno.telephony.ami import AmiConnection, AmiError, AmiRefused, Packet, ami_login, ami_logoff, field

log = logging.getLogger(__name__)

FLUSH_SECONDS = 0.05
FLUSH_EVENTS = 100
PING_SECONDS = 20.0
# The event classes the session asks for: the call flow and the CDRs, plus `dialplan` for the VarSet
# of AMDSTATUS/VMSTATUS and `user` for a dialplan's UserEvent (answering machines and voicemail,
# okno.telephony.adapters.asterisk). `dialplan` also streams every Newexten: read and dropped at
# the door (ami_event_wanted), never stored. UNVERIFIED: that Asterisk masks the classes asked for
# with the user's `read` ones, so a user without `dialplan` or `user` still logs in.
LOGIN_EVENTS = "call,cdr,dialplan,user"
# Events held while the database is unreachable: at ~1 KB each, a 100 MB ceiling.
MAX_BUFFERED = 100_000
DB_RETRY_SECONDS = 1.0
# After a stop, what already sits in the socket is still read, for at most this long.
STOP_DRAIN_SECONDS = 1.0
CONNECT_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class Backoff:
    first: float = 1.0
    most: float = 60.0
    # A session that stayed up this long after its login was a good one: the next failure
    # starts over from `first` rather than waiting longer each time.
    stable_seconds: float = 10.0


class AmiListener:
    """Reads one PBX until `stop` is set; `run` reconnects for ever in between."""

    def __init__(self, channel: Channel, *, stop: threading.Event, backoff: Backoff = Backoff(),
                 flush_seconds: float = FLUSH_SECONDS, flush_events: int = FLUSH_EVENTS,
                 ping_seconds: float = PING_SECONDS, now: Callable[[], datetime] = timezone.now,
                 sleep: Callable[[float], object] | None = None):
        self.channel = channel
        s = channel.settings
        self.host, self.port = str(s.get("host") or ""), int(s.get("port") or DEFAULT_PORT)
        self.stop, self.backoff = stop, backoff
        self.flush_seconds, self.flush_events, self.ping_seconds = flush_seconds, flush_events, ping_seconds
        self.now = now
        # Waiting between reconnects ends early on stop; tests record the waits instead.
        self.sleep = sleep or stop.wait
        self.headers = {"listener": socket.gethostname(), "ami": f"{self.host}:{self.port}"}
        self.buffer: list[tuple[str, bytes, str, datetime]] = []
        self._keys: set[str] = set()  # of the buffer: a repeated event is not offered twice
        self._buffered_since = 0.0
        self._db_retry_at = 0.0
        self.sessions = 0
        self.written = 0  # rows offered to the database (the unique key drops repeats)
        self._logged_in_at: float | None = None
        self.delays: deque[float] = deque(maxlen=100)  # the latest waits between reconnects

    def __str__(self) -> str:
        return f"AMI channel {self.channel.pk} {self.channel.name!r} ({self.host}:{self.port})"

    def run(self) -> None:
        delay = self.backoff.first
        while not self.stop.is_set():
            self._logged_in_at = None
            try:
                self._session()
            except AmiRefused as exc:
                log.error("%s: login refused (%s): check the channel's username and secret; "
                          "retrying in %.1f s", self, exc.message, delay)
            except (AmiError, OSError) as exc:
                log.warning("%s: %s; reconnecting in %.1f s", self, exc, delay)
            finally:
                self._flush(force=True)
            if self.stop.is_set():
                break
            if self._logged_in_at is not None and time.monotonic() - self._logged_in_at >= self.backoff.stable_seconds:
                delay = self.backoff.first
            self.delays.append(delay)
            self.sleep(delay)
            delay = min(delay * 2, self.backoff.most)
        if self.buffer:
            log.error("%s: stopped with %s events the database did not take", self, len(self.buffer))

    def _session(self) -> None:
        """One connection, from the banner to its end (a drop raises AmiError)."""
        conn = AmiConnection(self.host, self.port, timeout=CONNECT_TIMEOUT_SECONDS)
        conn.connect()
        try:
            ami_login(conn, username=str(self.channel.settings.get("username") or ""),
                      secret=str(self.channel.settings.get("secret") or ""), events=LOGIN_EVENTS)
        except BaseException:
            conn.close()
            raise
        self.sessions += 1
        self._logged_in_at = time.monotonic()
        log.info("%s: logged in (%s)", self, conn.banner)
        try:
            self._read(conn)
        finally:
            if self.stop.is_set():
                ami_logoff(conn, on_event=self._take)
            conn.close()

    def _read(self, conn: AmiConnection) -> None:
        heard = time.monotonic()
        ping_sent: float | None = None
        stopping_until: float | None = None
        while True:
            packets = conn.read(timeout=self.flush_seconds)
            now = time.monotonic()
            if packets:
                heard, ping_sent = now, None
                for packet in packets:
                    if "Event" in packet:
                        self._take(packet)
            if not packets or len(self.buffer) >= self.flush_events or (
                    self.buffer and now - self._buffered_since >= self.flush_seconds):
                self._flush()
            if self.stop.is_set():
                # One more read after the stop is seen: what was sent before it is in the socket.
                if stopping_until is None:
                    stopping_until = now + STOP_DRAIN_SECONDS
                elif not packets or now >= stopping_until:
                    return
            elif ping_sent is None and now - heard >= self.ping_seconds:
                conn.send("Ping")
                ping_sent = now
            elif ping_sent is not None and now - ping_sent >= self.ping_seconds:
                raise AmiError(f"no answer to Ping in {self.ping_seconds:.0f} s")

    def _take(self, packet: Packet) -> None:
        if not ami_event_wanted(packet):
            return
        body = ami_event_body(packet)
        key = ami_dedup_key(body)
        if key in self._keys:
            return
        if not self.buffer:
            self._buffered_since = time.monotonic()
        self._keys.add(key)
        self.buffer.append((field(packet, "Event")[:100], body, key, self.now()))

    def _flush(self, *, force: bool = False) -> None:
        if not self.buffer or (not force and time.monotonic() < self._db_retry_at):
            return
        rows = [{"channel_id": self.channel.pk, "received_at": at, "headers": self.headers, "body": body,
                 "content_type": "application/json", "event_type": name, "dedup_key": key}
                for name, body, key, at in self.buffer]
        try:
            if not connection.in_atomic_block:  # a test's transaction must not be closed under it
                close_old_connections()
            # One statement per batch, in its own transaction: a row is there or not at all.
            with transaction.atomic():
                insert_rows(InboundEvent, rows, ignore_conflicts=True)
        except DatabaseError as exc:
            self._db_retry_at = time.monotonic() + DB_RETRY_SECONDS
            dropped = len(self.buffer) - MAX_BUFFERED
            if dropped > 0:
                del self.buffer[:dropped]
                self._keys = {key for _, _, key, _ in self.buffer}
            log.error("%s: storing %s events failed (%s)%s", self, len(rows), exc,
                      f"; {dropped} oldest dropped" if dropped > 0 else "; kept, retrying")
            return
        self.written += len(rows)
        self.buffer.clear()
        self._keys.clear()


def ami_listeners_run(*, stop: threading.Event, channel_ids: list[int] | None = None,
                      reload_seconds: float = 30.0, listener_options: dict | None = None) -> None:
    """Runs a listener per active Asterisk channel until `stop`; every `reload_seconds` starts
    listeners for new channels and restarts those whose settings changed."""
    running: dict[int, tuple[threading.Thread, threading.Event, dict]] = {}
    try:
        while not stop.is_set():
            if not connection.in_atomic_block:  # a process that runs for weeks: drop a connection past its age
                close_old_connections()
            channels = Channel.objects.filter(kind="asterisk", is_active=True)
            if channel_ids:
                channels = channels.filter(pk__in=channel_ids)
            current = {c.pk: c for c in channels}
            for pk, (thread, own_stop, settings) in list(running.items()):
                if pk not in current or current[pk].settings != settings or not thread.is_alive():
                    own_stop.set()
                    thread.join(timeout=STOP_DRAIN_SECONDS + 5)
                    del running[pk]
            for pk, channel in current.items():
                if pk not in running:
                    own_stop = threading.Event()
                    listener = AmiListener(channel, stop=own_stop, **(listener_options or {}))
                    thread = threading.Thread(target=_listen, args=(listener,), name=f"ami-{pk}", daemon=True)
                    thread.start()
                    running[pk] = (thread, own_stop, dict(channel.settings))
            if not running:
                log.warning("no active Asterisk channel%s; looking again in %.0f s",
                            f" among {channel_ids}" if channel_ids else "", reload_seconds)
            stop.wait(reload_seconds)
    finally:
        for _thread, own_stop, _settings in running.values():
            own_stop.set()
        for thread, _own_stop, _settings in running.values():
            thread.join(timeout=STOP_DRAIN_SECONDS + 5)


def _listen(listener: AmiListener) -> None:
    try:
        listener.run()
    except Exception:  # a bug must be seen; the supervisor restarts the thread on its next look
        log.exception("%s: listener failed", listener)
    finally:
        connection.close()  # this thread's own database connection
