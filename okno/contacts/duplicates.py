"""The background duplicate scan and the duplicate groups built from its pairs.

Every change that can affect matching sets Contact.dedup_dirty (services.contact_refresh_derived).
The worker's "duplicates" drain claims dirty contacts in batches, compares each with the
contacts it shares a phone, an e-mail, or a company, e-mail-name, mailbox or name-and-city
block with (matching.py),
and stores the certain and likely pairs in DuplicatePair. "Possible" pairs (namesakes) are
not stored: at a million contacts they would be tens of millions of rows of "same name" and
glue unrelated people into one group; the card still shows them live.

Claiming: the batch is processed inside the claiming transaction, so a killed worker rolls
back and its contacts stay dirty. PostgreSQL locks the batch with FOR UPDATE SKIP LOCKED, so
several workers share the work; SQLite's IMMEDIATE transaction makes the worker the only
writer, and the dirty flag is cleared by a conditional UPDATE.
"""

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q

from okno.contacts import matching
from okno.contacts.models import Contact, ContactMatchKey, DuplicatePair
from okno.people.models import User
from okno.people.visibility import contact_visibility_q

STORED_LEVELS = ("certain", "likely")
# A phone, e-mail or block shared by more contacts than this is a reception desk or a
# placeholder: it says nothing about who is who, and comparing everyone in it is quadratic.
HUB_LIMIT = 50
_LEVEL_RANK = {"certain": 2, "likely": 1, "possible": 0}
_last_sweep = 0.0
SWEEP_SECONDS = 60.0


def _batch_size() -> int:
    # On SQLite the batch holds the only write lock: keep it short for the web requests waiting.
    return 1000 if settings.IS_POSTGRES else 300


def _claim(limit: int) -> list[int]:
    qs = Contact.objects.filter(dedup_dirty=True).order_by("pk")
    if connection.vendor == "postgresql":
        # NO KEY: pairs inserted by another worker take KEY SHARE locks on these rows (foreign keys).
        qs = qs.select_for_update(skip_locked=True, no_key=True)
    return list(qs.values_list("pk", flat=True)[:limit])


def _scan_keys(f: matching.Features) -> set[str]:
    # Name blocks only ever give "possible" pairs, which the scan does not keep.
    return {k for k in matching.keys_of(f) if not k.startswith("n:")}


def pairs_for(ids: list[int]) -> dict[tuple[int, int], tuple[str, float, list[str]]]:
    """Certain and likely pairs involving the given contacts, keyed (smaller id, larger id)."""
    active = Contact.objects.filter(status=Contact.Status.ACTIVE)
    feats = matching.load_features(ids, base=active)
    batch = list(feats.values())
    linked = matching.linked_ids(batch, keys_by_probe=[_scan_keys(f) for f in batch], hub_limit=HUB_LIMIT)
    others = matching.load_features(set().union(*linked) - set(feats), base=active) if linked else {}
    others.update(feats)
    found: dict[tuple[int, int], tuple[str, float, list[str]]] = {}
    for f, linked_to in zip(batch, linked, strict=True):
        for other_id in linked_to:
            key = (min(f.contact_id, other_id), max(f.contact_id, other_id))
            other = others.get(other_id)
            if key in found or other is None:
                continue
            scored = matching.score_pair(f, other)
            if scored and scored[0] in STORED_LEVELS:
                found[key] = scored
    return found


def _store(ids: list[int], found: dict[tuple[int, int], tuple[str, float, list[str]]]) -> None:
    existing = {
        (p.contact_a_id, p.contact_b_id): p
        for p in DuplicatePair.objects.filter(Q(contact_a_id__in=ids) | Q(contact_b_id__in=ids))
    }
    stale = [p.pk for key, p in existing.items() if not p.dismissed and key not in found]
    DuplicatePair.objects.filter(pk__in=stale).delete()
    new, changed = [], []
    for (a, b), (level, score, reasons) in found.items():
        pair = existing.get((a, b))
        if pair is None:
            new.append(DuplicatePair(contact_a_id=a, contact_b_id=b, level=level, score=score, reasons=reasons))
        elif not pair.dismissed and (pair.level, round(pair.score, 6), pair.reasons) != (level, round(score, 6),
                                                                                          reasons):
            pair.level, pair.score, pair.reasons = level, score, reasons
            changed.append(pair)
    # Another worker may have stored the same pair from the other side a moment ago.
    DuplicatePair.objects.bulk_create(new, ignore_conflicts=True, batch_size=1000)
    DuplicatePair.objects.bulk_update(changed, ["level", "score", "reasons"], batch_size=1000)


def duplicates_sweep() -> int:
    """Removes pairs whose contacts were merged or deleted (those changes may not mark them dirty)."""
    # The few inactive cards through the status index, not a join of every pair with both of
    # its cards: 8 ms instead of 0.5 s at a million cards, and the worker's other drains wait.
    inactive = Contact.objects.filter(status__in=[s for s in Contact.Status.values if s != Contact.Status.ACTIVE])
    gone = Q(contact_a_id__in=inactive.values("pk")) | Q(contact_b_id__in=inactive.values("pk"))
    deleted, _ = DuplicatePair.objects.filter(gone).delete()
    return deleted


def duplicates_drain(*, limit: int | None = None) -> int:
    """Claims one batch of dirty contacts, refreshes their pairs, clears their flag."""
    global _last_sweep
    with transaction.atomic():
        ids = _claim(limit or _batch_size())
        if ids:
            _store(ids, pairs_for(ids))
            Contact.objects.filter(pk__in=ids, dedup_dirty=True).update(dedup_dirty=False)
    if not ids and time.monotonic() - _last_sweep > SWEEP_SECONDS:
        _last_sweep = time.monotonic()
        duplicates_sweep()
    return len(ids)


def duplicates_scan(*, full: bool = False) -> int:
    """Drains until no contact is dirty; with full=True every contact is re-scanned first."""
    if full:
        Contact.objects.filter(dedup_dirty=False).update(dedup_dirty=True)
    total = 0
    while handled := duplicates_drain():
        total += handled
    duplicates_sweep()
    return total


def match_keys_rebuild(*, batch: int = 5000) -> int:
    """Re-files every contact under the current key design (after an upgrade that changes it)."""
    last, total = 0, 0
    while True:
        ids = list(Contact.objects.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:batch])
        if not ids:
            return total
        feats = matching.load_features(ids)
        with transaction.atomic():
            ContactMatchKey.objects.filter(contact_id__in=ids).delete()
            ContactMatchKey.objects.bulk_create(
                [ContactMatchKey(contact_id=pk, key=k) for pk, f in feats.items() for k in sorted(matching.keys_of(f))],
                batch_size=2000,
            )
        last, total = ids[-1], total + len(ids)


@dataclass
class DuplicateGroup:
    contacts: list[Contact]
    pairs: list[DuplicatePair]
    level: str = ""
    score: float = 0.0
    reasons_by_contact: dict[int, list[str]] = field(default_factory=dict)

    @property
    def ids(self) -> list[int]:
        return [c.pk for c in self.contacts]


def duplicate_groups(*, user: User) -> "DuplicateGroups":
    """Connected components of the pairs the user may see in full, most certain first.

    A pair with a card the user may not see is left out, so a group never discloses one.
    Visibility is applied by joins on both sides of the pair (an `__in` subquery on both made
    SQLite probe the pair index for every pair of ids: a minute at 20,000 cards). Components
    are built from bare ids; cards and reasons are loaded only for the page being shown.
    """
    active = Contact.Status.ACTIVE
    rows = list(
        DuplicatePair.objects.filter(dismissed=False, contact_a__status=active, contact_b__status=active)
        .filter(contact_visibility_q(user, prefix="contact_a__"))
        .filter(contact_visibility_q(user, prefix="contact_b__"))
        .values_list("pk", "contact_a_id", "contact_b_id", "level", "score")
    )
    parent: dict[int, int] = {}

    def root(x: int) -> int:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for _pk, a, b, _level, _score in rows:
        parent[root(a)] = root(b)
    members: dict[int, list[tuple]] = {}
    for row in rows:
        members.setdefault(root(row[1]), []).append(row)
    heads = []
    for group_rows in members.values():
        best = max(group_rows, key=lambda r: (_LEVEL_RANK[r[3]], r[4]))
        first_id = min(min(r[1], r[2]) for r in group_rows)
        heads.append((best[3], best[4], first_id, [r[0] for r in group_rows]))
    heads.sort(key=lambda h: (-_LEVEL_RANK[h[0]], -h[1], h[2]))
    return DuplicateGroups(heads)


class DuplicateGroups(Sequence):
    """The groups, sorted; slicing loads the cards and reasons of that slice only."""

    def __init__(self, heads: list[tuple[str, float, int, list[int]]]):
        self._heads = heads

    def __len__(self) -> int:
        return len(self._heads)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return self._load(self._heads[index])
        return self._load([self._heads[index]])[0]

    @staticmethod
    def _load(heads: list[tuple[str, float, int, list[int]]]) -> list[DuplicateGroup]:
        pairs = DuplicatePair.objects.in_bulk([pk for h in heads for pk in h[3]])
        ids = {i for p in pairs.values() for i in (p.contact_a_id, p.contact_b_id)}
        contacts = Contact.objects.select_related("company").prefetch_related("phones", "emails").in_bulk(ids)
        groups = []
        for level, score, _first, pair_ids in heads:
            group_pairs = sorted((pairs[pk] for pk in pair_ids), key=lambda p: (-p.score, p.pk))
            member_ids = sorted({i for p in group_pairs for i in (p.contact_a_id, p.contact_b_id)})
            reasons: dict[int, list[str]] = {}
            for p in group_pairs:
                for a, b in ((p.contact_a_id, p.contact_b_id), (p.contact_b_id, p.contact_a_id)):
                    reasons.setdefault(a, []).extend(f"#{b}: {r}" for r in p.reasons)
            groups.append(DuplicateGroup(contacts=[contacts[i] for i in member_ids], pairs=group_pairs,
                                         level=level, score=score, reasons_by_contact=reasons))
        return groups


@transaction.atomic
def duplicate_group_dismiss(*, user: User, contact_ids: list[int]) -> int:
    """"Not duplicates": the pairs among these cards (that the user may see) stay dismissed."""
    visible = Contact.objects.filter(contact_visibility_q(user), pk__in=contact_ids)
    return DuplicatePair.objects.filter(contact_a__in=visible, contact_b__in=visible, dismissed=False).update(
        dismissed=True
    )
