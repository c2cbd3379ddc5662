"""Asterisk cdr_csv import: 1,000,000 Master.csv lines (small: 50,000) in under 2 minutes.

The file is generated the way seven months of a busy 50-extension office's PBX write it: the stock
18 columns for its first 40% (cdr.conf.sample), then 21 after `newcdrcolumns=yes` was turned on;
~20,000 customers (small: 2,000) calling in and being called in three number formats, a quarter
of them already on cards; inbound calls answered, missed, busy, failed, left in the IVR or
rung through a ring group (one row per extension rung), outbound and internal calls, and 100
malformed lines (small: 10) spread through it. Times are local (Europe/Moscow). The file is kept
under var/ and reused by the next run and the other database.

The import (`cdr_import_file`, what `manage.py import_cdr` runs) runs in a fresh process, so its
peak memory (VmHWM) is its own, and its two reader processes' peak is reported beside it; the run
is timed inside that process (as bench_import). PostgreSQL here runs with autovacuum off: the
benchmark runs the VACUUM ANALYZE autovacuum would have run before the import (_vacuum). A second run of the same file
shows the re-import (everything "unchanged"). Baseline from the same run: Python's csv module
alone reading the file.

Run: `make bench` or `.venv/bin/python -m bench bench_cdr --db sqlite --scale small`.
"""

import csv
import json
import os
import random
import resource
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZES = {"full": (1_000_000, 20_000, 100), "small": (50_000, 2_000, 10)}
TARGET_SECONDS_PER_1M = 120
CHANNEL = "bench-cdr"
SEED_SOURCE = "bench-cdr-seed"
EXTENSIONS = [str(e) for e in range(101, 151)]
GENERATOR_VERSION = 1


def _q(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def _date(at: datetime | None) -> str:
    return "" if at is None else '"' + at.strftime("%Y-%m-%d %H:%M:%S") + '"'


class _Writer:
    """Writes Master.csv lines as cdr_csv.c does; counts the calls and bad lines it wrote."""

    def __init__(self, fh, lines: int, bad: int, rng: random.Random):
        self.fh, self.lines, self.rng = fh, lines, rng
        self.wide_from = int(lines * 0.4)  # newcdrcolumns turned on here
        self.bad_at = set(rng.sample(range(lines), bad))
        self.written = self.bad = self.calls = 0
        self.seq = 0

    def row(self, *, call: str, uniqueid: str, src: str, dst: str, clid: str, channel: str, dstchannel: str,
            app: str, start: datetime, answer: datetime | None, end: datetime, disposition: str) -> None:
        if self.written in self.bad_at:
            self.bad += 1
            self.written += 1
            bad = self.rng.choice([f'"","{src}","{dst}","from-trunk"', f'{_q("")},{_q(src)},"{dst}"x'])
            self.fh.write(bad + "\n")
            return
        self.seq += 1
        billsec = int((end - answer).total_seconds()) if answer else 0
        cells = [_q(""), _q(src), _q(dst), _q("from-trunk" if app != "Dial" or not src.isdigit() or len(src) > 5
                                                  else "from-internal"),
                 _q(clid), _q(channel), _q(dstchannel), _q(app), _q(f"{dstchannel.split('-')[0]},30" if dstchannel
                                                                     else ""),
                 _date(start), _date(answer), _date(end), str(int((end - start).total_seconds())), str(billsec),
                 _q(disposition), _q("DOCUMENTATION"), _q(uniqueid), _q("")]
        if self.written >= self.wide_from:
            cells += [_q(""), _q(call), str(self.seq)]
        self.fh.write(",".join(cells) + "\n")
        self.written += 1


def _number_formats(digits: str) -> list[str]:
    return [f"7{digits}", f"8{digits}", f"+7{digits}"]


def generate(path: Path, lines: int, customers: int, bad: int) -> dict:
    """Writes the file; returns what it holds (customers' digits, lines, bad lines, calls)."""
    rng = random.Random(20240115)
    numbers = [f"9{n:09d}" for n in rng.sample(range(10**9), customers)]
    at = datetime(2024, 1, 1, 8, 0, 0)
    chan = 0
    unique = 1_704_096_000

    def channel(peer: str) -> str:
        nonlocal chan
        chan += 1
        return f"PJSIP/{peer}-{chan % 16**8:08x}"

    with path.open("w", encoding="utf-8") as fh:
        w = _Writer(fh, lines, bad, rng)
        while w.written < lines:
            at += timedelta(seconds=rng.randint(5, 40))
            unique += 1
            uid = f"{unique}.{chan}"
            digits = rng.choice(numbers)
            number = rng.choice(_number_formats(digits))
            kind = rng.random()
            w.calls += 1
            if kind < 0.60:  # inbound through the trunk
                trunk = channel("trunk-mts")
                roll = rng.random()
                common = {"call": uid, "uniqueid": uid, "src": number, "dst": "74951234567",
                          "clid": f'"" <{number}>', "channel": trunk}
                if roll < 0.08:  # left in the IVR
                    end = at + timedelta(seconds=rng.randint(5, 40))
                    w.row(**common, dstchannel="", app="BackGround", start=at, answer=at + timedelta(seconds=1),
                          end=end, disposition="ANSWERED")
                    continue
                group = rng.sample(EXTENSIONS, 3 if roll < 0.25 else 1)  # a ring group, else one extension
                answered = rng.random() < 0.75
                taker = rng.choice(group) if answered else None
                ring_end = at + timedelta(seconds=rng.randint(3, 25))
                outcome = rng.choice(["NO ANSWER"] * 8 + ["BUSY", "FAILED"])
                for ext in group:
                    if w.written >= lines:
                        break
                    if ext == taker:
                        w.row(**common, dstchannel=channel(ext), app="Dial", start=at, answer=ring_end,
                              end=ring_end + timedelta(seconds=rng.randint(10, 600)), disposition="ANSWERED")
                    else:
                        w.row(**common, dstchannel=channel(ext), app="Dial", start=at, answer=None, end=ring_end,
                              disposition=outcome if taker is None else "NO ANSWER")
            elif kind < 0.95:  # outbound
                ext = rng.choice(EXTENSIONS)
                answered = rng.random() < 0.65
                ring_end = at + timedelta(seconds=rng.randint(3, 30))
                w.row(call=uid, uniqueid=uid, src=ext, dst=rng.choice([f"8{digits}", f"7{digits}"]),
                      clid=f'"Manager {ext}" <{ext}>', channel=channel(ext), dstchannel=channel("trunk-mts"),
                      app="Dial", start=at, answer=ring_end if answered else None,
                      end=ring_end + timedelta(seconds=rng.randint(10, 400) if answered else 0),
                      disposition="ANSWERED" if answered else rng.choice(["NO ANSWER", "BUSY"]))
            else:  # internal
                a, b = rng.sample(EXTENSIONS, 2)
                w.row(call=uid, uniqueid=uid, src=a, dst=b, clid=f'"Manager {a}" <{a}>', channel=channel(a),
                      dstchannel=channel(b), app="Dial", start=at, answer=at + timedelta(seconds=4),
                      end=at + timedelta(seconds=rng.randint(10, 120)), disposition="ANSWERED")
    return {"numbers": numbers, "lines": w.written, "bad": w.bad, "calls": w.calls}


def _cleanup(channel) -> None:
    """Deletes this benchmark's calls and cards with plain DELETEs (the ORM would load them all)."""
    from django.db import connection

    from bench.bench_duplicates import _contact_tables
    from okno.telephony.models import Call

    mine = "SELECT id FROM telephony_call WHERE channel_id = %s"
    cards = "SELECT id FROM contacts_contact WHERE source IN (%s, %s)"
    with connection.cursor() as cur:
        for rel in Call._meta.related_objects:
            if rel.field.concrete:
                cur.execute(f"DELETE FROM {rel.related_model._meta.db_table} WHERE {rel.field.column} IN ({mine})",
                            [channel.pk])
        cur.execute("DELETE FROM telephony_call WHERE channel_id = %s", [channel.pk])
        for table, column in _contact_tables():
            cur.execute(f"DELETE FROM {table} WHERE {column} IN ({cards})", [CHANNEL, SEED_SOURCE])
        cur.execute("UPDATE contacts_contact SET merged_into_id = NULL WHERE merged_into_id IN "
                    f"(SELECT id FROM ({cards}) AS m)", [CHANNEL, SEED_SOURCE])
        cur.execute("DELETE FROM contacts_contact WHERE source IN (%s, %s)", [CHANNEL, SEED_SOURCE])


def _vacuum() -> None:
    """PostgreSQL here runs with autovacuum off: the VACUUM ANALYZE it would have done after the
    last run's delete and this run's seed, so the import meets statistics and tables as in life."""
    from django.db import connection

    from bench.bench_duplicates import _contact_tables

    if connection.vendor != "postgresql":
        return
    tables = {"telephony_call", "telephony_callleg", "contacts_contact", *(t for t, _ in _contact_tables())}
    with connection.cursor() as cur:
        for table in sorted(tables):
            cur.execute(f"VACUUM ANALYZE {table}")


def _seed(numbers: list[str]) -> int:
    """A quarter of the customers already have cards (typed +7 ...): the import must find them."""
    from django.db import transaction

    from okno.contacts.import_bulk import contacts_bulk_create
    from okno.contacts.services import ContactData

    known = numbers[: len(numbers) // 4]
    for start in range(0, len(known), 1000):
        with transaction.atomic():
            contacts_bulk_create(actor=None, items=[
                ContactData(first_name="Клиент", source=SEED_SOURCE, phones=[(f"+7{d}", "", "mobile", f"+7 {d}")])
                for d in known[start:start + 1000]])
    return len(known)


def _child(*args: str) -> dict:
    proc = subprocess.run([sys.executable, "-m", "bench.bench_cdr", *args], cwd=ROOT, env=dict(os.environ),
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-3000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run(*, db: str, scale: str) -> list[dict]:
    from okno.contacts.models import Contact
    from okno.inbox.models import Channel
    from okno.people.models import User
    from okno.telephony.models import Call, CallLeg, PbxExtension
    from okno.timeline.models import Activity

    lines, customers, bad = SIZES[scale]
    path = ROOT / "var" / f"bench-cdr-{scale}-v{GENERATOR_VERSION}.csv"
    meta_path = path.with_suffix(".json")
    started = time.perf_counter()
    if path.exists() and meta_path.exists():
        meta = json.loads(meta_path.read_text())
        generate_seconds = None
    else:
        path.parent.mkdir(exist_ok=True)
        meta = generate(path, lines, customers, bad)
        meta_path.write_text(json.dumps(meta))
        generate_seconds = time.perf_counter() - started

    channel, _ = Channel.objects.get_or_create(name=CHANNEL, defaults={"kind": "asterisk",
                                                                      "settings": {"timezone": "Europe/Moscow"}})
    _cleanup(channel)
    # 45 of the 50 extensions are known employees; 5 stay unmatched, as in life.
    for code in EXTENSIONS[:45]:
        user, _ = User.objects.get_or_create(username=f"bench-cdr-{code}", defaults={"first_name": code})
        PbxExtension.objects.get_or_create(channel=channel, code=code, defaults={"user": user})
    seeded = _seed(meta["numbers"])
    _vacuum()

    # Baseline: the csv module alone reading the file.
    started = time.perf_counter()
    with path.open(newline="", encoding="utf-8") as fh:
        read = sum(1 for _ in csv.reader(fh))
    csv_seconds = time.perf_counter() - started

    first = _child("import", str(path), str(channel.pk))
    calls, legs = Call.objects.filter(channel=channel).count(), CallLeg.objects.filter(call__channel=channel).count()
    activities = Activity.objects.filter(kind="call").count()
    made_cards = Contact.objects.filter(source=CHANNEL).count()
    second = _child("import", str(path), str(channel.pk))
    calls_after = Call.objects.filter(channel=channel).count()
    idle = _child("idle")
    target = TARGET_SECONDS_PER_1M * lines / 1_000_000
    r1, r2 = first["report"], second["report"]
    expected_calls = meta["calls"]
    _cleanup(channel)
    return [
        {"metric": "lines in file (of them malformed)", "value": f"{meta['lines']} ({meta['bad']})",
         "target": lines, "ok": meta["lines"] == lines == read},
        {"metric": "customers (already on cards)", "value": f"{customers} ({seeded})", "target": "", "ok": None},
        {"metric": "bad lines reported", "value": r1["errors"], "target": meta["bad"],
         "ok": r1["errors"] == meta["bad"]},
        {"metric": "calls created / stored", "value": f"{r1['calls_created']} / {calls}",
         "target": f"<= {expected_calls}", "ok": r1["calls_created"] == calls and calls <= expected_calls},
        {"metric": "legs / timeline entries", "value": f"{legs} / {activities}", "target": "", "ok": None},
        {"metric": "cards created (customers not on cards)", "value": f"{r1['contacts_created']} / {made_cards}",
         "target": customers - seeded, "ok": r1["contacts_created"] == made_cards <= customers - seeded},
        {"metric": "import s", "value": round(first["seconds"], 1), "target": f"< {target:.0f}",
         "ok": first["seconds"] < target},
        {"metric": "import lines/s", "value": round(lines / first["seconds"]), "target": "", "ok": None},
        {"metric": "import peak RSS MB (fresh process)", "value": round(first["maxrss_kb"] / 1024, 1), "target": "",
         "ok": None},
        {"metric": "reader processes peak RSS MB (each)", "value": round(first["readers_maxrss_kb"] / 1024, 1),
         "target": "", "ok": None},
        {"metric": "idle Django process RSS MB", "value": round(idle["maxrss_kb"] / 1024, 1), "target": "",
         "ok": None},
        {"metric": "re-import s (all unchanged)", "value": round(second["seconds"], 1), "target": "", "ok": None},
        {"metric": "re-import created / updated / unchanged",
         "value": f"{r2['calls_created']} / {r2['calls_updated']} / {r2['calls_unchanged']}", "target": "0 / 0 / all",
         "ok": r2["calls_created"] == r2["calls_updated"] == 0 and calls_after == calls},
        {"metric": "baseline: csv module reads the file s", "value": round(csv_seconds, 2), "target": "", "ok": None},
        {"metric": "import / csv read", "value": round(first["seconds"] / csv_seconds, 1), "target": "", "ok": None},
        {"metric": "file generated s", "value": round(generate_seconds, 1) if generate_seconds else "reused",
         "target": "", "ok": None},
    ]


def _main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "okno.settings")
    import django

    django.setup()
    out: dict = {"seconds": 0.0}
    if sys.argv[1] == "import":
        from dataclasses import asdict

        from okno.inbox.models import Channel
        from okno.telephony.cdr_import import cdr_import_file

        channel = Channel.objects.get(pk=int(sys.argv[3]))
        started = time.perf_counter()
        report = cdr_import_file(channel=channel, path=sys.argv[2])
        out = {"seconds": time.perf_counter() - started, "report": asdict(report)}
    # VmHWM is this process's own peak; ru_maxrss would carry the parent's over exec. The reader
    # processes the import forks are children: their largest peak is RUSAGE_CHILDREN's.
    status = Path("/proc/self/status").read_text()
    out["maxrss_kb"] = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:"))
    out["readers_maxrss_kb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(json.dumps(out))


if __name__ == "__main__":
    _main()
