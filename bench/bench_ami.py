"""Asterisk AMI ingest (issue 5): the live listener's events stored per second, beside the raw
INSERT rate of the same run.

1. AMI: `ami_ingest_rate` (bench/ingest_ami.py): the real listener reading the local AMI replay
   server, which streams new call-flow events as fast as it can; rate = rows committed / seconds
   from login to the last batch. One listener is one connection to the database, as in production.
2. Raw, same run, same row shape, same database: single-row INSERT + COMMIT from one connection
   (bench/ingest/raw.py, plain psycopg or sqlite3, no Django): what one writer gets without batching.

The rows go into a channel of their own, "bench-ami", deleted afterwards; no worker runs here, so
nothing drains them. Run: `make bench` or `.venv/bin/python -m bench bench_ami --db sqlite`.
"""

import time

from bench.ingest.raw import raw_insert_rate
from bench.ingest_ami import ami_ingest_rate, ami_packets
from okno.inbox.models import Channel, InboundEvent

SCALES = {"full": {"events": 50_000, "raw_seconds": 5}, "small": {"events": 5_000, "raw_seconds": 2}}
# A PBX of a few hundred people makes a few events a second at its busiest (a call is ~10 kept
# events over minutes); a thousand a second leaves room for a redundant pair and for catching up.
TARGET_EVENTS_PER_SECOND = 1000


def _row(metric: str, value, target: str = "", ok: bool | None = None) -> dict:
    return {"metric": metric, "value": value, "target": target, "ok": ok}


def run(*, db: str, scale: str) -> list[dict]:
    cfg = SCALES[scale]
    channel = Channel.objects.filter(kind="asterisk", name="bench-ami").first() or Channel.objects.create(
        kind="asterisk", name="bench-ami", is_active=False)
    InboundEvent.objects.filter(channel=channel).delete()
    try:
        ami = ami_ingest_rate(channel, cfg["events"])
        bodies = ami_packets(cfg["events"], run=int(time.time()) % 100_000)
        raw = raw_insert_rate(channel_id=channel.pk, bodies=bodies, clients=1, seconds=cfg["raw_seconds"])
    finally:
        InboundEvent.objects.filter(channel=channel).delete()
    rate = ami["rate"]
    return [
        _row("AMI events streamed", ami["events"]),
        _row("AMI events stored", ami["stored"], "all", ami["stored"] == ami["events"]),
        _row("AMI events stored/s (1 listener)", round(rate), f">= {TARGET_EVENTS_PER_SECOND}",
             rate >= TARGET_EVENTS_PER_SECOND),
        _row("raw INSERT+COMMIT rows/s (1 connection)", round(raw["rate"])),
        _row("AMI / raw single-row", f"{rate / raw['rate']:.0%}"),
    ]
