"""Writing prepared CDR chunks (okno.telephony.cdr_import): each chunk in one transaction,
new calls inserted and stored ones merged, with their legs, cards and timeline entries."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from okno.contacts.identify import Identity, new_contact_data
from okno.contacts.import_bulk import contacts_bulk_create
from okno.contacts.models import Contact, ContactPhone
from okno.core.bulk import chunks
from okno.telephony.calls import MISSED, _order, call_summary
from okno.telephony.cdr_bulk import keyed_lookup, raw_execute, reserve_ids
from okno.telephony.models import Call, CallLeg
from okno.timeline.models import Activity

if TYPE_CHECKING:
    from okno.telephony.cdr_import import CdrImportReport, _Preparer

# Keys per IN (...) of a plain look-up: under SQLite's 32,766 variables and psycopg's 65,535.
_LOOKUP_KEYS = 10_000
# Calls inserted before the first ANALYZE on PostgreSQL, then each time they doubled (CdrWriter.analyze).
_ANALYZE_FIRST = 50_000

def _new_rows(rows: list[dict], have: list[dict]) -> list[dict]:
    """The rows not yet among the call's facts, each once (a line repeated in the file adds nothing)."""
    seen: set[frozenset] = set()
    fresh = []
    for row in rows:
        key = frozenset(row.items())
        if key in seen or (have and row in have):
            continue
        seen.add(key)
        fresh.append(row)
    return fresh


class CdrWriter:
    """Writes prepared chunks, each in one transaction."""

    def __init__(self, preparer: _Preparer):
        self.p = preparer
        self.contact_at = preparer.calls.index["contact_id"]
        self.facts_at = preparer.calls.index["facts"]
        self.leg_call_at = preparer.legs.index["call_id"]
        self.activity_contact_at = preparer.activities.index["contact_id"]
        self.activity_detail_at = preparer.activities.index["detail_id"]
        # The previous chunk's calls: one whose lines straddle the boundary is merged by the next
        # chunk, and that must count once in the report.
        self.previous: set[str] = set()
        self.inserted, self.analyze_at = 0, _ANALYZE_FIRST

    def write(self, calls: list, report: CdrImportReport) -> None:
        for attempt in range(3):
            try:
                with transaction.atomic():
                    # PostgreSQL writes new rows by COPY; a chunk that failed is written again by
                    # INSERT, the way that was there before COPY (and is SQLite's way).
                    counts = self._write(calls, copy=attempt == 0 and connection.vendor == "postgresql")
                break
            except IntegrityError:
                # A live event (AMI) made one of these calls between our look-up and our insert;
                # the next attempt finds it and merges into it.
                if attempt == 2:
                    raise
        self.previous = {c[0] for c in calls}
        for key, value in counts.items():
            setattr(report, key, getattr(report, key) + value)
        self.inserted += counts["calls_created"]
        if self.inserted >= self.analyze_at:
            self.analyze()
            self.analyze_at = self.inserted * 2

    def analyze(self) -> None:
        """PostgreSQL: fresh statistics of the tables this import grows, each time it doubled them.

        Planned from statistics taken while a table was small, the look-ups and the foreign-key
        checks of each chunk read whole tables; autovacuum catches up with a bulk load only
        afterwards (and is off on some servers). ANALYZE samples, taking 0.1-0.3 s a table.
        """
        if connection.vendor != "postgresql":
            return
        with connection.cursor() as cursor:
            for model in (Call, CallLeg, Activity, ContactPhone, Contact):
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")

    def _write(self, calls: list, *, copy: bool = False) -> dict[str, int]:
        """One chunk's calls ([call id, Call row, card's number, new card's department, legs,
        Activity row], see Prepared): new ones inserted, stored ones merged."""
        # Which are stored, with their facts: plain queries (the ORM's building of an IN of
        # thousands cost more than running it, and a re-import finds every call stored).
        stored: dict[str, str | list] = {}
        for part in chunks([c[0] for c in calls], _LOOKUP_KEYS):
            sql, params = keyed_lookup(Call._meta.db_table, "pbx_call_id", part, "t.pbx_call_id, t.facts",
                                 f"t.channel_id = {int(self.p.channel.pk)}")
            stored.update(raw_execute(sql, params, fetch=True))
        new = [c for c in calls if c[0] not in stored]
        unchanged, maybe = 0, {}
        for call_id, row, *_ in calls:
            have = stored.get(call_id)
            if have is None:
                continue
            text = row[self.facts_at]
            if isinstance(have, str):  # SQLite keeps the JSON as we wrote it: the same text, the same facts
                if have == text:
                    unchanged += call_id not in self.previous
                    continue
                have = json.loads(have)
            rows = json.loads(text)
            if rows == have or not _new_rows(rows, have):
                unchanged += call_id not in self.previous
            else:
                maybe[call_id] = rows
        # Calls with new facts, usually none: loaded whole and locked as the live path locks
        # them, then merged with the facts they have under the lock.
        changed = []
        for part in chunks(list(maybe)):
            qs = Call.objects.filter(channel=self.p.channel, pbx_call_id__in=part)
            if settings.IS_POSTGRES:
                qs = qs.select_for_update()
            for call in qs:
                fresh = _new_rows(maybe[call.pbx_call_id], call.facts)
                if fresh:
                    facts = sorted([*call.facts, *fresh], key=_order)
                    changed.append((call, facts, call_summary(facts)))
                else:
                    unchanged += call.pbx_call_id not in self.previous
        wanted = {number: department_id for _, _, number, department_id, _, _ in new if number}
        updates = [(call, facts, s, *self.p.fields(s)) for call, facts, s in changed]
        for call, _, _, f, number in updates:
            if call.contact_id is None and number:
                wanted.setdefault(number, f["department_id"])
        cards, contacts_created = self._cards(wanted)

        contact_at = self.contact_at
        for _, row, number, *_ in new:
            row[contact_at] = cards.get(number) if number else None
        # In card order: four of the indexes these rows go into lead with the card (a call's and
        # a timeline entry's), and inserting in key order touches each index page once per chunk
        # instead of once per row (SQLite, 1M lines: Call inserts 33 -> 23 s, Activity 16 -> 5 s).
        new.sort(key=lambda c: c[1][contact_at] or 0)
        if copy:
            pks = reserve_ids(Call, len(new))
            self.p.calls.copy([c[1] for c in new], pks)
            ids = {c[0]: pk for c, pk in zip(new, pks, strict=True)}
        else:
            ids = self.p.calls.insert([c[1] for c in new])
        legs, activities = [], []
        leg_call_at, activity_contact_at, activity_detail_at = (
            self.leg_call_at, self.activity_contact_at, self.activity_detail_at)
        for call_id, row, _, _, call_legs, activity in new:
            pk = ids[call_id]
            for leg in call_legs:
                leg[leg_call_at] = pk
            legs += call_legs
            if row[contact_at] is not None:
                activity[activity_contact_at], activity[activity_detail_at] = row[contact_at], pk
                activities.append(activity)
        updated = self._update(updates, cards, legs, activities)
        if copy:
            self.p.legs.copy(legs)
            self.p.activities.copy(activities)
        else:
            self.p.legs.insert(legs)
            self.p.activities.insert(activities)
        return {"calls_created": len(new), "calls_updated": updated, "calls_unchanged": unchanged,
                "contacts_created": contacts_created}

    def _cards(self, wanted: dict[str, int | None]) -> tuple[dict[str, int], int]:
        """Number -> card id for each wanted E.164 number, making cards for unknown ones.

        Finds what `contact_identify` finds (the oldest active card with the number) without its
        merge of several matching cards: a batch does not merge customers, the duplicate scan
        offers those to a person. `wanted` maps a number to the department its new card gets.
        """
        if not wanted:
            return {}, 0
        found: dict[str, int] = {}
        for part in chunks(sorted(wanted), _LOOKUP_KEYS):
            sql, params = keyed_lookup(ContactPhone._meta.db_table, "e164", part, "t.e164, t.contact_id",
                                 join=f"JOIN {Contact._meta.db_table} c ON c.id = t.contact_id "
                                      f"AND c.status = '{Contact.Status.ACTIVE.value}'")
            rows = raw_execute(sql, params, fetch=True)
            for e164, contact_id in rows:
                if e164 not in found or contact_id < found[e164]:
                    found[e164] = contact_id
        missing = [n for n in wanted if n not in found]
        if not missing:
            return found, 0
        made = contacts_bulk_create(actor=None, items=[
            new_contact_data(Identity(phones=[n]), source=self.p.channel.name) for n in missing])
        by_department: dict[int, list[int]] = {}
        for number, contact in zip(missing, made, strict=True):
            found[number] = contact.pk
            if wanted[number] is not None:
                by_department.setdefault(wanted[number], []).append(contact.pk)
        # No lead routes these cards to a manager, so they go to the call's department to be seen.
        for department_id, pks in by_department.items():
            for part in chunks(pks):
                Contact.objects.filter(pk__in=part).update(department_id=department_id)
        return found, len(made)

    def _update(self, updates: list, cards: dict[str, int], legs: list, activities: list) -> int:
        """Recomputes stored calls that got new facts; returns how many were stored before this chunk."""
        if not updates:
            return 0
        now = timezone.now()
        calls, on_card = [], []
        for call, facts, s, f, number in updates:
            for key, value in f.items():
                setattr(call, key, value)
            call.facts, call.updated_at = facts, now
            if call.callback_due and not (call.direction == Call.Direction.IN and call.outcome in MISSED):
                call.callback_due = False  # answered after all; the import never makes a callback
            if call.contact_id is None and number:
                call.contact_id = cards.get(number)
                if call.contact_id is not None:
                    activities.append(self.p.activity_row(f, now, call.contact_id, call.pk))
            elif call.contact_id is not None:
                on_card.append(call)
            legs += self.p.leg_rows(s, call.pk)
            calls.append(call)
        Call.objects.bulk_update(calls, [*updates[0][3], "facts", "updated_at", "callback_due", "contact_id"],
                                 batch_size=500)
        for part in chunks([c.pk for c in calls]):
            # Legs are derived rows (nothing points at them): rewritten from the summary.
            CallLeg.objects.filter(call_id__in=part).delete()
        by_call = {c.pk: c for c in on_card}
        entries = []
        for part in chunks(list(by_call)):
            entries += Activity.objects.filter(kind=Activity.Kind.CALL, detail_type_id=self.p.call_type_id,
                                               detail_id__in=part)
        for entry in entries:
            call = by_call[entry.detail_id]
            entry.occurred_at = call.started_at or call.created_at
            entry.summary = self.p.summary_line(call.direction, call.outcome)
        Activity.objects.bulk_update(entries, ["occurred_at", "summary"], batch_size=500)
        return sum(1 for call in calls if call.pbx_call_id not in self.previous)
