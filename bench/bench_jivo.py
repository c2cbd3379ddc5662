"""Jivo's chat_accepted reply (the operator's card) at 1,000,000 contacts: p50/p99 through the
whole Django stack (URL, channel lookup, raw event stored and committed, card read), and of the
card lookup alone.

Contacts are bench_duplicates' (same generator; its set is reused when the database holds one of
the size asked, see _contacts). On top, this benchmark adds its own history so the card's counts have rows to
count: conversations and leads on 5% of the cards, spread at random, and on every sampled known
visitor; they belong to the channel "bench-jivo" and are replaced on each run.
"""

import gc
import json
import os
import random
import statistics
import time

from django.db import connection
from django.test import Client

from bench.bench_duplicates import SIZES, _contact_tables, generate, load, pct, phone_formats
from okno.contacts.models import Contact, ContactPhone
from okno.deals.models import Lead
from okno.inbox.jivo_card import jivo_card_reply
from okno.inbox.models import Channel, Conversation, InboundEvent
from okno.people.models import User

SAMPLES = 1000
WARMUP = 50
HISTORY_SHARE = 0.05


def _contacts(n: int) -> tuple[int, bool]:
    """(first id, reused) of n generated contacts.

    bench_duplicates' set of that size is reused when present. Otherwise the same generator makes
    this benchmark's own set (without companies, which bench_duplicates' wipe deletes by name),
    under its own fingerprint: other benchmarks' rows in the shared database are never deleted.
    """
    for fingerprint in (f"bench-dedup-{n}-v1", f"bench-jivo-{n}-v1"):
        if Contact.objects.filter(source=fingerprint).count() == n:
            return Contact.objects.filter(source=fingerprint).order_by("pk").values_list("pk", flat=True)[0], True
    _wipe_own(f"bench-jivo-{n}-v1")
    rows, _truth = generate(n)
    for row in rows:
        row["company"] = None
    first_id = load(rows, f"bench-jivo-{n}-v1")
    del rows
    gc.collect()
    return first_id, False


def _wipe_own(fingerprint: str) -> None:
    """Deletes a partly loaded set of this benchmark's contacts (a run killed while loading)."""
    mine = "SELECT id FROM contacts_contact WHERE source = %s"
    with connection.cursor() as cur:
        for table, column in _contact_tables():
            cur.execute(f"DELETE FROM {table} WHERE {column} IN ({mine})", [fingerprint])
        cur.execute("DELETE FROM contacts_contact WHERE source = %s", [fingerprint])


def _history(channel: Channel, contact_ids: list[int], manager: User) -> None:
    Lead.objects.filter(source="bench-jivo").delete()
    InboundEvent.objects.filter(channel=channel).delete()
    Conversation.objects.filter(channel=channel).delete()
    convs = [Conversation(channel=channel, contact_id=cid, kind="chat", external_id=f"bench:{i}")
             for i, cid in enumerate(contact_ids)]
    Conversation.objects.bulk_create(convs, batch_size=5000)
    leads = [Lead(contact_id=cid, source="bench-jivo", status=Lead.Status.NEW if i % 3 else Lead.Status.LOST,
                  assignee=manager) for i, cid in enumerate(contact_ids)]
    Lead.objects.bulk_create(leads, batch_size=5000)
    Contact.objects.filter(pk__in=contact_ids[:20_000]).update(responsible=manager)
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            for table in ("inbox_conversation", "deals_lead", "contacts_contact"):
                cur.execute(f"ANALYZE {table}")


def _body(chat_id: int, phone: str, rng: random.Random) -> dict:
    return {
        "event_name": "chat_accepted", "widget_id": "bench", "user_token": None, "chat_id": chat_id,
        "visitor": {"name": "Посетитель", "phone": phone, "number": str(rng.randrange(10 ** 9)), "chats_count": 1},
        "page": {"url": "https://shop.example.ru/", "title": "Магазин"},
        "agent": {"id": 1, "name": "Оператор", "email": "operator@bench.example"},
    }


def _measure(client: Client, path: str, bodies: list[dict]) -> tuple[list[float], int]:
    samples, with_card = [], 0
    for i, body in enumerate(bodies):
        data = json.dumps(body, ensure_ascii=False)
        t = time.perf_counter()
        r = client.post(path, data=data, content_type="application/json")
        elapsed = time.perf_counter() - t
        if r.status_code != 200:
            raise RuntimeError(f"reply {r.status_code}: {r.content[:200]!r}")
        if i >= WARMUP:
            samples.append(elapsed)
            with_card += "crm_link" in r.json()
    return samples, with_card


def run(*, db: str, scale: str) -> list[dict]:
    n = SIZES[scale]
    t0 = time.monotonic()
    first_id, reused = _contacts(n)
    prepare_seconds = time.monotonic() - t0
    rng = random.Random(23)
    manager = User.objects.filter(username="bench-jivo-manager").first() or User.objects.create(
        username="bench-jivo-manager", first_name="Мария", last_name="Иванова", role=User.Role.MANAGER)
    channel = Channel.objects.filter(kind="jivo", name="bench-jivo").first() or Channel.objects.create(
        kind="jivo", name="bench-jivo")
    # Known visitors: cards that have a phone, picked at random across the whole id range.
    picks = rng.sample(range(first_id, first_id + n), SAMPLES * 2)
    phones = dict(ContactPhone.objects.filter(contact_id__in=picks, e164__startswith="+7").values_list(
        "contact_id", "e164"))
    known = [(cid, phones[cid]) for cid in picks if cid in phones][: SAMPLES + WARMUP]
    history = sorted({*rng.sample(range(first_id, first_id + n), int(n * HISTORY_SHARE)), *(c for c, _ in known)})
    _history(channel, history, manager)

    client = Client()
    chat = rng.randrange(10 ** 6)
    known_bodies = [_body(chat + i, phone_formats(e164, rng), rng) for i, (_cid, e164) in enumerate(known)]
    # Unknown visitors: numbers no card has (other benchmarks share the database and add cards).
    candidates = list({f"+7999{rng.randrange(10 ** 7):07d}" for _ in range(2 * (SAMPLES + WARMUP))})
    taken = set(ContactPhone.objects.filter(e164__in=candidates).values_list("e164", flat=True))
    unknown = [p for p in candidates if p not in taken][: SAMPLES + WARMUP]
    unknown_bodies = [_body(chat + 10 ** 5 + i, phone, rng) for i, phone in enumerate(unknown)]
    gc.collect()
    gc.freeze()
    known_samples, found = _measure(client, channel.webhook_path, known_bodies)
    unknown_samples, wrongly_found = _measure(client, channel.webhook_path, unknown_bodies)
    lookups = []
    for body in known_bodies[WARMUP:]:
        t = time.perf_counter()
        jivo_card_reply(channel=channel, data=body)
        lookups.append(time.perf_counter() - t)
    gc.unfreeze()
    InboundEvent.objects.filter(channel=channel).delete()

    known_p99, unknown_p99 = pct(known_samples, 0.99), pct(unknown_samples, 0.99)
    return [
        {"metric": "contacts", "value": n, "target": "", "ok": None},
        {"metric": "prepare seconds", "value": round(prepare_seconds, 1), "target": "reused" if reused else "",
         "ok": None},
        {"metric": "cards with chat/lead history", "value": len(history), "target": "", "ok": None},
        {"metric": "chat_accepted reply, known visitor p50 ms", "value": pct(known_samples, 0.5), "target": "",
         "ok": None},
        {"metric": "chat_accepted reply, known visitor p99 ms", "value": known_p99, "target": "< 50",
         "ok": known_p99 < 50 and found == len(known_samples)},
        {"metric": "known visitors shown their card", "value": f"{found}/{len(known_samples)}", "target": "all",
         "ok": found == len(known_samples)},
        {"metric": "chat_accepted reply, unknown visitor p50 ms", "value": pct(unknown_samples, 0.5), "target": "",
         "ok": None},
        {"metric": "chat_accepted reply, unknown visitor p99 ms", "value": unknown_p99, "target": "< 50",
         "ok": unknown_p99 < 50 and wrongly_found == 0},
        {"metric": "card lookup alone p50 ms", "value": pct(lookups, 0.5), "target": "", "ok": None},
        {"metric": "card lookup alone p99 ms", "value": pct(lookups, 0.99), "target": "", "ok": None},
        {"metric": "load average during run", "value": round(os.getloadavg()[0], 1), "target": "2 cores", "ok": None},
        {"metric": "reply mean ms (all)", "value": round(statistics.mean(known_samples + unknown_samples) * 1000, 2),
         "target": "", "ok": None},
    ]
