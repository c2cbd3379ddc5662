"""AMI ingest: the real listener (okno.telephony.ami_listener) against the local AMI replay server
streaming call-flow events as fast as it can send them; how many it stores per second.

The events are the answered transcript's kept ones (okno/telephony/tests/ami_transcripts), each
call with fresh ids, so every event is a new row; what the listener does to each is the real
work: frame, parse, filter, JSON, hash for the dedup key, batch INSERT ... ON CONFLICT DO NOTHING.
"""

import threading
import time

from okno.inbox.models import Channel, InboundEvent
from okno.telephony.adapters.asterisk import ami_event_wanted
from okno.telephony.ami import packet_parse
from okno.telephony.ami_listener import AmiListener, Backoff
from okno.telephony.tests.ami_server import AmiReplayServer, transcript

TEMPLATE_CALL_ID = b"1705314600."


def ami_packets(events: int, *, run: int) -> list[bytes]:
    """`events` AMI event packets: the answered call's kept events over and over, ids fresh per call."""
    call = [p for p in transcript("answered") if ami_event_wanted(packet_parse(p))]
    packets: list[bytes] = []
    n = 0
    while len(packets) < events:
        fresh = f"{run}{n:07d}.".encode()
        packets.extend(p.replace(TEMPLATE_CALL_ID, fresh) for p in call)
        n += 1
    return packets[:events]


def ami_ingest_rate(channel: Channel, events: int) -> dict:
    """Streams `events` events to a listener for `channel` and returns what it stored, how fast.

    The channel's rows are counted before and after; the listener runs in this thread and stops
    once the server has sent everything and it has stored what it read. Returns {"events",
    "stored", "seconds", "rate"} (rate: stored events per second, login to last commit)."""
    packets = ami_packets(events, run=int(time.time()) % 100_000)
    before = InboundEvent.objects.filter(channel=channel).count()
    with AmiReplayServer(packets) as server:
        channel.settings = server.settings()
        listener = AmiListener(channel, stop=server.done, backoff=Backoff(first=0.1, most=1.0))
        guard = threading.Timer(600, server.done.set)
        guard.start()
        started = time.perf_counter()
        try:
            listener.run()
        finally:
            guard.cancel()
        seconds = time.perf_counter() - started
    stored = InboundEvent.objects.filter(channel=channel).count() - before
    return {"events": events, "stored": stored, "seconds": round(seconds, 2), "rate": stored / seconds}
