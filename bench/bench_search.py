"""The contact search box at scale (issue 15): each kind of query through the list's own queryset
(count and first page, as the list page runs them), beside a raw indexed lookup of a whole e164 in
the same run.

Cards are bench_duplicates' generated base (names from Faker's ru_RU lists, phones +7916…, e-mails
`first.last<i>@…`, half at a company), written by COPY (PostgreSQL) or executemany (SQLite) into
this benchmark's own database; the trigram indexes of migration 0006 are in place before the
load, so the load's time includes keeping them. BENCH_SEARCH_N overrides the number of cards.
"""

import gc
import os
import random
import subprocess
import time
from pathlib import Path

from django.db import connection, transaction
from django.utils import timezone

from bench.bench_duplicates import _e164, _insert, generate, pct, typo
from okno.contacts.contact_filters import ContactFilters, contacts_listed
from okno.contacts.models import Contact, ContactPhone
from okno.core.text import fold
from okno.people.models import User

SIZES = {"full": 1_000_000, "small": 20_000}
ROOT = Path(__file__).resolve().parent.parent
SAMPLES = 200
PAGE = 50


def _load(rows: list[dict], fingerprint: str) -> None:
    now = timezone.now()
    with transaction.atomic():
        with connection.cursor() as cur:
            cur.execute("SELECT COALESCE(MAX(id), 0) FROM contacts_contact")
            first_id = cur.fetchone()[0] + 1
            cur.execute("SELECT COALESCE(MAX(id), 0) FROM contacts_company")
            company_id = cur.fetchone()[0] + 1
        companies: dict[str, int] = {}
        contacts, phones, emails = [], [], []
        for i, r in enumerate(rows):
            comp = None
            if r["company"]:
                comp = companies.setdefault(r["company"], company_id + len(companies))
            search = fold(" ".join(p for p in (r["last"], r["first"], r["middle"], r["company"] or "") if p))[:700]
            contacts.append((first_id + i, r["first"], r["last"], r["middle"], comp, r["city"], fingerprint, "{}",
                             "active", search, False, now, now))
            phones += [(first_id + i, _e164(p), "", "mobile", p) for p in r["phones"]]
            emails += [(first_id + i, e.lower()) for e in r["emails"]]
        _insert("contacts_company", ["id", "name", "search_name", "created_at"],
                [(pk, name, fold(name), now) for name, pk in companies.items()])
        _insert("contacts_contact", ["id", "first_name", "last_name", "middle_name", "company_id", "city", "source",
                                     "custom", "status", "search_text", "dedup_dirty", "created_at", "updated_at"],
                contacts)
        _insert("contacts_contactphone", ["contact_id", "e164", "extension", "kind", "raw"], phones)
        _insert("contacts_contactemail", ["contact_id", "email"], emails)
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            for table in ("contacts_contact", "contacts_company", "contacts_contactphone", "contacts_contactemail"):
                cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")
                cur.execute(f"VACUUM ANALYZE {table}")
    else:
        with connection.cursor() as cur:
            cur.execute("ANALYZE")


def _queries(rows: list[dict], rng: random.Random) -> dict[str, list[str]]:
    base = [r for r in rows[: int(len(rows) * 0.95)]]
    with_phone = [r for r in base if r["phones"]]
    with_email = [r for r in base if r["emails"]]
    with_company = [r for r in base if r["company"]]
    named = [r for r in base if len(r["last"]) >= 6]
    out: dict[str, list[str]] = {k: [] for k in (
        "phone whole, any format", "phone 7-digit run (880-67-28)", "phone prefix (8 (916) 880)",
        "phone 4-digit run", "e-mail part", "company name", "last + first name", "last name with a typo + first",
        "last name alone with a typo")}
    for _ in range(SAMPLES):
        d = rng.choice(with_phone)["phones"][0][2:]
        out["phone whole, any format"].append(f"8 ({d[:3]}) {d[3:6]}-{d[6:8]}-{d[8:]}")
        out["phone 7-digit run (880-67-28)"].append(f"{d[3:6]}-{d[6:8]}-{d[8:]}")
        out["phone prefix (8 (916) 880)"].append(f"8 ({d[:3]}) {d[3:6]}")
        out["phone 4-digit run"].append(d[-4:])
        local = rng.choice(with_email)["emails"][0].split("@")[0]
        out["e-mail part"].append(local.split(".", 1)[-1])
        out["company name"].append(rng.choice(with_company)["company"].split(" ")[-1])
        r = rng.choice(named)
        out["last + first name"].append(f"{r['last']} {r['first']}")
        out["last name with a typo + first"].append(f"{typo(r['last'], rng)} {r['first']}")
        out["last name alone with a typo"].append(typo(rng.choice(named)["last"], rng))
    return out


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True).stdout.strip()
    except OSError:
        return ""


def run(*, db: str, scale: str) -> list[dict]:
    n = int(os.environ.get("BENCH_SEARCH_N") or SIZES[scale])
    fingerprint = f"bench-search-{n}"
    t0 = time.monotonic()
    rows, _ = generate(n)
    gc.collect()
    gc.freeze()
    reused = Contact.objects.filter(source=fingerprint).count() == n
    if not reused:
        Contact.objects.exclude(source=fingerprint).filter(source__startswith="bench-search-").delete()
        _load(rows, fingerprint)
    load_seconds = time.monotonic() - t0
    user = User.objects.filter(username="bench-admin").first() or User.objects.create(
        username="bench-admin", role=User.Role.ADMIN)
    rng = random.Random(15)
    queries = _queries(rows, rng)
    out = [
        {"metric": "commit", "value": _commit(), "target": "", "ok": None},
        {"metric": "contacts", "value": n, "target": "", "ok": None},
        {"metric": "generate + load seconds", "value": round(load_seconds, 1), "target": "reused" if reused else "",
         "ok": None},
    ]
    # The baseline: a whole e164 by its B-tree index, no visibility, no page.
    raw = []
    for q in queries["phone whole, any format"]:
        e164 = "+7" + "".join(ch for ch in q if ch.isdigit())[1:]
        t = time.perf_counter()
        list(ContactPhone.objects.filter(e164=e164).values_list("contact_id", flat=True))
        raw.append(time.perf_counter() - t)
    out += [{"metric": "raw indexed e164 lookup p95 ms", "value": pct(raw, 0.95), "target": "", "ok": None},
            {"metric": "raw indexed e164 lookup p99 ms", "value": pct(raw, 0.99), "target": "", "ok": None}]
    for kind, qs in queries.items():
        times, empty = [], 0
        for q in qs:
            t = time.perf_counter()
            listed = contacts_listed(user=user, filters=ContactFilters(q=q))
            total = listed.count()
            list(listed[:PAGE])
            times.append(time.perf_counter() - t)
            empty += total == 0
        p95, p99 = pct(times, 0.95), pct(times, 0.99)
        out += [
            {"metric": f"{kind}: count + first page p95 ms", "value": p95, "target": "< 200", "ok": p95 < 200},
            {"metric": f"{kind}: p99 ms", "value": p99, "target": "", "ok": None},
            {"metric": f"{kind}: queries finding nothing", "value": empty, "target": "0", "ok": empty == 0},
        ]
    out.append({"metric": "load average during run", "value": round(os.getloadavg()[0], 1), "target": "2 cores",
                "ok": None})
    return out
