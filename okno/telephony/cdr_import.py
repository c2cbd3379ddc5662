"""Importing Asterisk's Master.csv: calls in bulk, as a batch path and to back-fill history.

The live path (`calls.call_fact_record`) takes one fact at a time, about 30 queries each; a
year of CDRs would take hours that way. This path reads the file in chunks (20,000 lines) and for
each chunk, in one transaction: groups the lines' facts (okno.telephony.cdr_csv) by call, merges
them with the facts of calls already stored (a call seen live through AMI, or imported before),
computes every call's fields with the same `calls.call_summary`, finds the customers' cards by
normalised number (making the unknown ones, as `contacts_bulk_create` does for the XLSX import)
and writes calls, legs and timeline entries in a handful of multi-row statements.

What it does the same as the live path: the call's fields (one `call_summary` of all its facts,
the same number normalisation, employees by PbxExtension, an unknown extension kept in
`unmatched_extension`, the department the employee's else the channel's); a card per customer
number (the oldest active card with that number, else a new card named after the channel); one
timeline entry per call on a card. What it leaves out on purpose: leads, callbacks and screen
pops. Its calls are history: a lead or a callback for a call of last March would be stale work
for a manager, and a pop for a call long over shows nobody anything. A stored call that the
file now shows answered no longer owes a callback (`callback_due` cleared), but the import never
makes one. New cards get the call's department (no lead routes them to a manager), and only a
number that parses gets one (the live path also makes an empty card for a malformed "+..." one).

Idempotent: a call is found by (channel, pbx_call_id); the facts it already has are not added
again, so a call with nothing new is left as it is ("unchanged"), one with new facts is
recomputed from all of them ("updated"). Importing a file twice, or a file overlapping calls
already stored, duplicates nothing. A malformed line is reported with its number and reason and
the rest is imported; a chunk is one transaction, so a failure stops the import with every
earlier chunk kept, and running it again carries on where it left off.

Speed: a file is read, parsed and summarised (everything that needs no database) by two reader
processes forked for the import, taking alternate chunks, while this process writes the chunks in
order (okno.telephony.cdr_bulk); lines passed in memory are prepared in-process. Figures:
docs/benchmarks.md (bench_cdr).
"""

import json
import marshal
import multiprocessing
import os
import traceback
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from okno.core.phones import try_normalize_phone
from okno.inbox.models import Channel
from okno.telephony.calls import CallSummary, _order, _summary_line, call_summary_of_sorted
from okno.telephony.cdr_bulk import Table, datetime_text, sqlite_tuned
from okno.telephony.cdr_csv import Cdr, CdrError, CdrOptions, cdr_options, cdr_rows, read_cdr_line
from okno.telephony.cdr_writer import CdrWriter, _new_rows
from okno.telephony.models import Call, CallLeg, PbxExtension
from okno.timeline.models import Activity

ASTERISK_KIND = "asterisk"
# Lines per chunk (one transaction): bigger chunks touch each page of the random indexes fewer
# times (SQLite at 1M lines: 5,000 -> 20,000 halved the cost of committing); a chunk holds
# SQLite's write lock for about a second, which the live worker's busy timeout (20 s) waits out.
CHUNK_LINES = 20_000
ERRORS_KEPT = 20
# A number's normal form is looked up once (phonenumbers takes ~40 µs a number); a PBX's
# customers repeat, and a cap keeps a file of millions of distinct numbers in bounded memory.
_NUMBER_CACHE_MAX = 200_000
# Reader processes of a file (see _forked_chunks).
_READERS = 2
class CdrImportRefused(ValueError):
    """The channel cannot take a CDR import (not an Asterisk channel, a bad setting); says why."""


@dataclass
class CdrImportReport:
    read: int = 0  # non-blank lines read
    calls_created: int = 0
    calls_updated: int = 0  # stored calls that got new facts (recomputed)
    calls_unchanged: int = 0  # stored calls whose every fact in the file they already had
    contacts_created: int = 0
    errors: int = 0
    first_errors: list[tuple[int, str]] = field(default_factory=list)  # (line number, reason)


def cdr_import_check(channel: Channel) -> None:
    """Raises CdrImportRefused unless the channel is an Asterisk one."""
    if channel.kind != ASTERISK_KIND:
        raise CdrImportRefused(f"channel {channel.pk} ({channel.name}) is a '{channel.kind}' channel, "
                               f"not an Asterisk one (kind '{ASTERISK_KIND}')")


def cdr_import(*, channel: Channel, lines: Iterable[bytes], gmt: bool | None = None, tz: str | None = None,
               chunk_lines: int = CHUNK_LINES, errors_kept: int = ERRORS_KEPT) -> CdrImportReport:
    """Imports Master.csv lines (bytes, as read from the file) into the channel's calls.

    `gmt` (cdr.conf `usegmtime=yes`) and `tz` override the channel's `cdr_usegmtime` and
    `timezone` settings. Returns the counts and the first `errors_kept` bad lines. Memory stays
    bounded: one chunk of lines at a time.
    """
    preparer = _preparer_for(channel, gmt=gmt, tz=tz)
    return _run(preparer, _prepared_chunks(lines, preparer, chunk_lines), errors_kept)


def cdr_import_file(*, channel: Channel, path: str | Path, gmt: bool | None = None, tz: str | None = None,
                    errors_kept: int = ERRORS_KEPT, chunk_lines: int = CHUNK_LINES,
                    parallel: bool | None = None) -> CdrImportReport:
    """`cdr_import` of a file, streamed; read in a helper process when `parallel` (the default
    where there is more than one core and processes fork)."""
    preparer = _preparer_for(channel, gmt=gmt, tz=tz)
    if parallel is None:
        parallel = (os.cpu_count() or 1) > 1 and "fork" in multiprocessing.get_all_start_methods()
    if not parallel:
        with open(path, "rb") as fh:
            return _run(preparer, _prepared_chunks(fh, preparer, chunk_lines), errors_kept)
    return _run(preparer, _forked_chunks(Path(path), preparer, chunk_lines, _READERS), errors_kept)


def _preparer_for(channel: Channel, *, gmt: bool | None, tz: str | None) -> "_Preparer":
    cdr_import_check(channel)
    try:
        options = cdr_options(channel.settings or {}, gmt=gmt, tz=tz)
    except ValueError as exc:
        raise CdrImportRefused(str(exc)) from None
    extensions = {e.code: e for e in PbxExtension.objects.filter(channel=channel).select_related("user")}
    return _Preparer(channel, options, extensions)


def _run(preparer: "_Preparer", prepared: Iterator["Prepared"], errors_kept: int) -> CdrImportReport:
    report = CdrImportReport()
    writer = CdrWriter(preparer)
    try:
        with sqlite_tuned():
            for read, errors, calls in prepared:
                report.read += read
                report.errors += len(errors)
                report.first_errors += [tuple(e) for e in errors[:max(0, errors_kept - len(report.first_errors))]]
                writer.write(calls, report)
            if writer.inserted:
                writer.analyze()  # what PostgreSQL's documentation asks after a bulk load
    finally:
        close = getattr(prepared, "close", None)
        if close is not None:
            close()  # stops the reader processes when the writer failed
    return report


# A call's columns that its summary decides, in the order _Preparer.values gives them.
SUMMARY_FIELDS = ("direction", "customer_number", "line", "employee_id", "department_id", "unmatched_extension",
                  "started_at", "answered_at", "ended_at", "wait_seconds", "talk_seconds", "outcome", "recording_id")
# A prepared chunk: (lines read, [(line number, reason)], [call, ...]), a call being
# [call id, Call row, number of its card or "", a new card's department, [CallLeg row, ...],
# Activity row]; rows are lists of text, numbers and None, so marshal carries them.
Prepared = tuple[int, list, list]


class _Preparer:
    """Everything of a chunk that needs no database: parsing, facts by call, `call_summary`, the rows."""

    def __init__(self, channel: Channel, options: CdrOptions, extensions: dict[str, PbxExtension]):
        self.channel, self.options, self.extensions = channel, options, extensions
        self.calls, self.legs, self.activities = Table(Call), Table(CallLeg), Table(Activity)
        self.call_type_id = ContentType.objects.get_for_model(Call).pk
        self.when = datetime_text()
        self.numbers: dict[str, tuple[str, bool]] = {}
        self.summaries: dict[tuple[str, str], str] = {}

    def number(self, raw: str) -> tuple[str, bool]:
        """(the number as the call keeps it, whether it parsed): calls._number, and its verdict."""
        hit = self.numbers.get(raw)
        if hit is None:
            if len(self.numbers) >= _NUMBER_CACHE_MAX:
                self.numbers.clear()
            phone = try_normalize_phone(raw) if raw else None
            hit = self.numbers[raw] = (phone.e164, True) if phone else (raw.strip()[:64], False)
        return hit

    def summary_line(self, direction: str, outcome: str) -> str:
        key = (direction, outcome)
        if key not in self.summaries:
            self.summaries[key] = _summary_line(Call(channel=self.channel, direction=direction, outcome=outcome))
        return self.summaries[key]

    def values(self, s: CallSummary) -> tuple[tuple, str]:
        """The call's SUMMARY_FIELDS as calls._apply sets them, and the number of its card ("" for none)."""
        extension = self.extensions.get(s.extension) if s.extension else None
        employee = extension.user if extension is not None else None
        number, parsed = self.number(s.customer)
        on_card = parsed and s.direction != Call.Direction.INTERNAL  # a hidden number finds no card
        # str(): call_summary gives Call.Outcome members, which marshal does not take.
        return (str(s.direction), number, s.line[:64], employee.pk if employee else None,
                (employee.department_id if employee else None) or self.channel.department_id,
                s.extension[:64] if s.extension and employee is None else "",
                s.started_at, s.answered_at, s.ended_at, s.wait_seconds, s.talk_seconds, str(s.outcome),
                s.recording[:255]), (number if on_card else "")

    def fields(self, s: CallSummary) -> tuple[dict, str]:
        values, number = self.values(s)
        return dict(zip(SUMMARY_FIELDS, values, strict=True)), number

    def leg_rows(self, s: CallSummary, call_pk: int | None = None) -> list[list]:
        rows = []
        for leg_id, leg in s.legs.items():
            extension = self.extensions.get(leg.extension) if leg.extension else None
            rows.append(self.legs.row({
                "call_id": call_pk, "leg_id": leg_id[:128], "extension": leg.extension[:64],
                "employee_id": extension.user_id if extension is not None else None,
                "started_at": leg.started_at, "answered_at": leg.answered_at, "ended_at": leg.ended_at,
                "outcome": leg.outcome}))
        return rows

    def activity_row(self, f: dict, now, contact_id: int, call_pk: int) -> list:
        return self.activities.row({
            "contact_id": contact_id, "kind": Activity.Kind.CALL, "occurred_at": f["started_at"] or now,
            "summary": self.summary_line(f["direction"], f["outcome"]), "detail_type_id": self.call_type_id,
            "detail_id": call_pk, "created_at": now})

    def prepare(self, items: list[tuple[int, Cdr | CdrError]]) -> Prepared:
        grouped: dict[str, list[dict]] = {}
        repeated: set[str] = set()  # calls of more than one line in this chunk
        errors = []
        for number, item in items:
            if isinstance(item, CdrError):
                errors.append((number, str(item)))
                continue
            call_id, rows = cdr_rows(item, self.options)
            call_id = call_id[:128]
            if call_id in grouped:
                grouped[call_id].extend(rows)
                repeated.add(call_id)
            else:
                grouped[call_id] = rows
        return len(items), errors, self._calls(grouped, repeated)

    def _calls(self, grouped: dict[str, list[dict]], repeated: set[str]) -> list:
        # The hot loop of the import: rows are filled by position from templates, and each date
        # is written as text once (a call's start is also its leg's and its timeline entry's).
        when, memo = self.when, {}

        def text(value):
            if value is None:
                return None
            found = memo.get(value)
            if found is None:
                found = memo[value] = when(value)
            return found

        now = text(timezone.now())
        call_at, leg_at, act_at = self.calls.index, self.legs.index, self.activities.index
        summary_at = [call_at[name] for name in SUMMARY_FIELDS]
        dates_at = [call_at[name] for name in ("started_at", "answered_at", "ended_at")]
        call_template = self.calls.row({"channel_id": self.channel.pk, "callback_due": False})
        call_template[call_at["created_at"]] = call_template[call_at["updated_at"]] = now
        id_at, facts_at = call_at["pbx_call_id"], call_at["facts"]
        leg_template = self.legs.template
        leg_fields = [leg_at[n] for n in ("leg_id", "extension", "employee_id", "started_at", "answered_at",
                                          "ended_at", "outcome")]
        act_template = self.activities.row({"kind": Activity.Kind.CALL, "detail_type_id": self.call_type_id})
        act_template[act_at["created_at"]] = now
        occurred_at, act_summary_at = act_at["occurred_at"], act_at["summary"]
        extensions, dumps = self.extensions, json.dumps
        calls = []
        for call_id, rows in grouped.items():
            if call_id in repeated:
                facts = sorted(_new_rows(rows, []), key=_order)
            else:
                # One line's rows are distinct, and in order unless the PBX's clock went back:
                # sorting (a JSON text per row for _order's last key) costs as much as the summary.
                facts = rows if _in_order(rows) else sorted(rows, key=_order)
            s = call_summary_of_sorted(facts)
            values, number = self.values(s)
            row = call_template.copy()
            for i, value in zip(summary_at, values, strict=True):
                row[i] = value
            for i in dates_at:
                row[i] = text(row[i])
            row[id_at], row[facts_at] = call_id, dumps(facts)
            legs = []
            for leg_id, leg in s.legs.items():
                extension = extensions.get(leg.extension) if leg.extension else None
                leg_row = leg_template.copy()
                for i, value in zip(leg_fields, (
                        leg_id[:128], leg.extension[:64], extension.user_id if extension is not None else None,
                        text(leg.started_at), text(leg.answered_at), text(leg.ended_at), str(leg.outcome)),
                        strict=True):
                    leg_row[i] = value
                legs.append(leg_row)
            activity = act_template.copy()
            activity[occurred_at] = text(s.started_at) or now
            activity[act_summary_at] = self.summary_line(values[0], values[11])
            calls.append([call_id, row, number, values[4], legs, activity])
        return calls


def _in_order(rows: list[dict]) -> bool:
    """Are one line's rows already in calls._order's order? They come out start, ivr or ring,
    answer, end, so they are whenever their times do not go back. A plain loop: the generator
    over pairs cost a twentieth of the reading."""
    previous = ""
    for row in rows:
        at = row["at"]
        if at < previous:
            return False
        previous = at
    return True




def _batches(lines: Iterable[bytes], chunk_lines: int) -> Iterator[list[tuple[int, bytes]]]:
    """The file's non-blank lines with their numbers, `chunk_lines` at a time (good or bad alike,
    so that readers can split the chunks among them without parsing each other's)."""
    batch = []
    for number, raw in enumerate(lines, start=1):
        if raw.strip():
            batch.append((number, raw))
            if len(batch) >= chunk_lines:
                yield batch
                batch = []
    if batch:
        yield batch


def _prepared_chunks(lines: Iterable[bytes], preparer: _Preparer, chunk_lines: int, *, part: int = 0,
                     parts: int = 1) -> Iterator[Prepared]:
    """The prepared chunks of the lines; with `parts`, only every parts-th one from `part` on."""
    zone = preparer.options.zone
    for index, batch in enumerate(_batches(lines, chunk_lines)):
        if index % parts == part:
            yield preparer.prepare([(number, read_cdr_line(raw, zone)) for number, raw in batch])


def _produce(path: Path, preparer: _Preparer, chunk_lines: int, part: int, parts: int, out) -> None:
    """A reader process: prepares its share of the file's chunks; never touches the database.

    Chunks cross as marshal bytes: 5x cheaper than pickling them, and they are only lists of
    text and numbers. A pipe holds about one chunk, so a reader stays at most a chunk ahead.
    """
    try:
        with open(path, "rb") as fh:
            for chunk in _prepared_chunks(fh, preparer, chunk_lines, part=part, parts=parts):
                out.send_bytes(marshal.dumps(chunk))
        out.send_bytes(marshal.dumps(None))
    except BaseException:  # noqa: BLE001 - the writer raises it, with this traceback
        out.send_bytes(marshal.dumps(("failed", traceback.format_exc())))
    finally:
        out.close()


def _forked_chunks(path: Path, preparer: _Preparer, chunk_lines: int, readers: int) -> Iterator[Prepared]:
    """The file's prepared chunks, in order, from `readers` forked processes taking turns.

    Parsing and summarising cost more than writing: two readers and this writer keep both cores
    of a small server busy. Forked, a reader has the channel, its extensions and the tables as
    they are here; it inherits the database connection too and must not use it (multiprocessing
    ends a child with os._exit, which closes nothing of ours).
    """
    context = multiprocessing.get_context("fork")
    pipes, processes = [], []
    try:
        for part in range(readers):
            receive, send = context.Pipe(duplex=False)
            process = context.Process(target=_produce, args=(path, preparer, chunk_lines, part, readers, send),
                                      daemon=True)
            process.start()
            send.close()  # ours is the reading end: EOF if the reader dies
            pipes.append(receive)
            processes.append(process)
        index = 0
        while True:
            part = index % readers
            try:
                chunk = marshal.loads(pipes[part].recv_bytes())
            except EOFError:
                raise RuntimeError(f"a CDR reader process stopped (exit code {processes[part].exitcode})") from None
            if chunk is None:  # the reader whose turn it is has no more: the file is done
                return
            if chunk[0] == "failed":
                raise RuntimeError(f"reading {path} failed:\n{chunk[1]}")
            yield chunk
            index += 1
    finally:
        for pipe in pipes:
            pipe.close()
        for process in processes:
            if process.is_alive():
                process.terminate()
            process.join(timeout=10)
