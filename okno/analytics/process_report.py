"""The process report: how orders and requests were handled, computed live from the deals, their
stage changes, leads, the robots' deadlines, conversations and callback work items. Every figure
is one place here; docs/analytics.md ("Process") states the definitions, and
okno/analytics/tests/test_process_random.py checks them against a plain reading of the rows.

Each part counts the rows *created* in the period (a cohort), as they stand now:
- deals created in the period: processing (created to the first move into an open or won stage
  other than the pipeline's first: "confirmed"; a pause or a loss does not end it), pauses
  (entered a paused stage; the length of each pause that ended), lost in pause (moved from a
  paused stage straight to a lost one);
- leads created in the period: converted (status converted, or a deal made from it), not taken in
  time (a robots deadline of the lead was missed);
- conversations started in the period (requests): unanswered, left at once, offline and spam
  (okno.analytics.process_requests);
- callback work items created in the period: answered late (closed after they were due, or still
  open past due).
"""

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from okno.analytics.chats_report import Epoch
from okno.analytics.labels import user_names
from okno.analytics.periods import COMPARES, Period, avg, ids_q, parse_choice, parse_id, parse_known, parse_period
from okno.analytics.process_requests import GROUPS, request_items, row_key, streamed
from okno.analytics.scope import check_filters, process_scope_q
from okno.deals.models import Deal, DealStageChange, Lead, Pipeline, Stage
from okno.people.models import Department, User
from okno.robots.models_runs import Deadline
from okno.work.models import WorkItem

FILTERS = ("department", "employee")
PARAMS = {"from", "to", "group_by", "compare", *FILTERS}
# Durations are whole milliseconds (`*_ms`): the rollup's sums (okno.analytics.process_rollup) then
# equal these whatever the order they are added in.
COUNTS = ("deals", "processed", "processing_ms", "paused", "pauses", "pause_ms", "lost_in_pause",
          "leads", "leads_converted", "leads_late", "requests", "unanswered", "left_quickly", "offline", "spam",
          "callbacks", "callbacks_late", "callback_ms", "callbacks_closed")
FIGURES = ("deals", "processed", "processing_seconds_avg", "paused", "pause_seconds_avg", "lost_in_pause",
           "lost_in_pause_share", "leads", "leads_converted", "conversion_share", "leads_late", "requests",
           "unanswered", "unanswered_share", "left_quickly", "offline", "spam", "callbacks", "callbacks_late",
           "callback_seconds_avg")
# Per part, the field of its rows each grouping reads (None: the part has no such key).
KEYS = {
    "deals": {"source": "source", "department": "department_id", "employee": "responsible_id",
              "pipeline": "pipeline_id"},
    "leads": {"source": "source", "department": "department_id", "employee": "assignee_id", "pipeline": None},
    "callbacks": {"source": None, "department": "department_id", "employee": "assignee_id", "pipeline": None},
}
IDS_LISTED = 5000
# The fields the scope and the filters read, per part.
SCOPE_FIELDS = {"deals": ("department_id", "responsible_id"), "leads": ("department_id", "assignee_id"),
                "callbacks": ("department_id", "assignee_id")}


@dataclass(frozen=True)
class ProcessQuery:
    period: Period
    group_by: str = "source"
    compare: str = ""
    department: int | None = None
    employee: int | None = None

    def filters(self) -> dict:
        return {name: getattr(self, name) for name in FILTERS if getattr(self, name) is not None}


def process_query_parse(params) -> ProcessQuery:
    """A 422 naming the first bad parameter, as every report (okno.analytics.periods)."""
    parse_known(params, PARAMS)
    period = parse_period(params)
    group_by = parse_choice(params, "group_by", GROUPS, default="source")
    compare = parse_choice(params, "compare", COMPARES)
    return ProcessQuery(period, group_by, compare, parse_id(params, "department"), parse_id(params, "employee"))


def _scoped(qs, *, user, query: ProcessQuery, part: str, extra: dict | None = None):
    """`qs` for what `user` may see (None: everything, the rollup's build), filtered; `extra`: a
    further filter per part (the rollup's live rest)."""
    dep_field, emp_field = SCOPE_FIELDS[part]
    if user is not None:
        qs = qs.filter(process_scope_q(user, department_field=dep_field, employee_field=emp_field))
    if extra and part in extra:
        qs = qs.filter(extra[part])
    if query.department is not None:
        qs = qs.filter(**{dep_field: query.department})
    if query.employee is not None:
        qs = qs.filter(**{emp_field: query.employee})
    return qs


def _ms(later: float, earlier: float) -> int:
    """Whole milliseconds between two moments given as unix seconds (chats_report.Epoch)."""
    return max(0, round((later - earlier) * 1000))


def _new() -> dict:
    return dict.fromkeys(COUNTS, 0)


# --- deals -----------------------------------------------------------------------------------------

def _stages() -> tuple[dict, dict]:
    """(stage id -> kind, pipeline id -> its first stage's id)."""
    kinds, first = {}, {}
    for pk, pipeline_id, kind in Stage.objects.order_by("pipeline_id", "position", "id").values_list(
            "pk", "pipeline_id", "kind"):
        kinds[pk] = kind
        first.setdefault(pipeline_id, pk)
    return kinds, first


def _fields(part: str) -> list[str]:
    return sorted({f for f in KEYS[part].values() if f})


def _deal_items(*, user, query: ProcessQuery, lo, hi, extra=None):
    """(("deal", id), created, group key, counts) of each deal created in the period."""
    deals = _scoped(Deal.objects.filter(created_at__gte=lo, created_at__lt=hi), user=user, query=query, part="deals",
                    extra=extra)
    rows = {d["pk"]: d for d in deals.annotate(created_s=Epoch("created_at")).values(
        "pk", "created_s", *{"pipeline_id", *_fields("deals")}).order_by()}
    if not rows:
        return
    changes = defaultdict(list)
    # A few thousand (the rollup's live rest): their ids as one parameter, read at once; more (a
    # period read live): the deals' query again as a subquery, read in chunks. Times as unix
    # seconds: parsing the datetimes was most of the rollup's live rest.
    small = len(rows) <= IDS_LISTED
    found = (DealStageChange.objects.filter(ids_q(DealStageChange, "deal_id", list(rows)) if small
                                            else Q(deal__in=deals.values("pk")))
             .order_by("deal_id", "at", "id").values_list("deal_id", "from_stage_id", "to_stage_id", Epoch("at")))
    for deal_id, from_id, to_id, at in (found if small else found.iterator(chunk_size=5000)):
        changes[deal_id].append((from_id, to_id, at))
    kinds, first = _stages()
    # Stage ids by what a move into or out of them means (set look-ups: this loop is the live rest's).
    confirming = {pk for pk, kind in kinds.items() if kind in (Stage.Kind.OPEN, Stage.Kind.WON)}
    paused = {pk for pk, kind in kinds.items() if kind == Stage.Kind.PAUSED}
    lost = {pk for pk, kind in kinds.items() if kind == Stage.Kind.LOST}
    for pk, d in rows.items():
        counts = {"deals": 1, "processed": 0, "processing_ms": 0, "paused": 0, "pauses": 0, "pause_ms": 0,
                  "lost_in_pause": 0}
        deal_first = first.get(d["pipeline_id"])
        processed_at = None
        paused_since = None
        was_paused = lost_in_pause = False
        for from_id, to_id, at in changes.get(pk, ()):
            if processed_at is None and from_id is not None and to_id != deal_first and to_id in confirming:
                processed_at = at
            if from_id in paused:
                if paused_since is not None:
                    counts["pauses"] += 1
                    counts["pause_ms"] += _ms(at, paused_since)
                    paused_since = None
                if to_id in lost:
                    lost_in_pause = True
            if to_id in paused:
                was_paused = True
                paused_since = at
        if processed_at is not None:
            counts["processed"] = 1
            counts["processing_ms"] = _ms(processed_at, d["created_s"])
        counts["paused"] = int(was_paused)
        counts["lost_in_pause"] = int(lost_in_pause)
        yield ("deal", pk), d["created_s"], row_key(query.group_by, KEYS["deals"], d), counts


# --- leads -----------------------------------------------------------------------------------------

def _lead_items(*, user, query: ProcessQuery, lo, hi, extra=None):
    """(("lead", id), created, group key, counts) of each lead created in the period."""
    qs = _scoped(Lead.objects.filter(created_at__gte=lo, created_at__lt=hi), user=user, query=query, part="leads",
                 extra=extra)
    # Times as unix seconds (as the deals'): parsing thousands of datetimes was most of the time.
    rows = list(qs.annotate(created_s=Epoch("created_at")).values("pk", "created_s", "status", *_fields("leads"))
                .order_by())
    if not rows:
        return
    # Converted: its status, or a deal made from it; late: a missed robots' deadline. Two look-ups
    # by the leads' ids (as EXISTS per lead, PostgreSQL hashed every deal of the table instead).
    ids = [r["pk"] for r in rows]
    with_deal = set(Deal.objects.filter(ids_q(Deal, "lead_id", ids)).order_by().values_list("lead_id", flat=True))
    late = set(Deadline.objects.filter(ids_q(Deadline, "lead_id", ids), status=Deadline.Status.MISSED)
               .order_by().values_list("lead_id", flat=True))
    for row in rows:
        converted = row["status"] == Lead.Status.CONVERTED or row["pk"] in with_deal
        yield (("lead", row["pk"]), row["created_s"], row_key(query.group_by, KEYS["leads"], row),
               {"leads": 1, "leads_converted": int(converted), "leads_late": int(row["pk"] in late)})


# --- callbacks -------------------------------------------------------------------------------------

def _callback_items(*, user, query: ProcessQuery, lo, hi, now, extra=None):
    """(("callback", id), created, group key, counts) of each callback work item created in the period."""
    qs = _scoped(WorkItem.objects.filter(kind=WorkItem.Kind.CALLBACK, created_at__gte=lo, created_at__lt=hi),
                 user=user, query=query, part="callbacks", extra=extra)
    now_s = now.timestamp()
    rows = qs.annotate(created_s=Epoch("created_at"), due_s=Epoch("due_at"), closed_s=Epoch("closed_at")).values(
        "pk", "created_s", "due_s", "closed_s", *_fields("callbacks")).order_by()
    for row in streamed(rows, extra):
        done_at = row["closed_s"]
        counts = {"callbacks": 1, "callbacks_late": int((now_s if done_at is None else done_at) > row["due_s"]),
                  "callbacks_closed": 0, "callback_ms": 0}
        if done_at is not None:
            counts["callbacks_closed"] = 1
            counts["callback_ms"] = _ms(done_at, row["created_s"])
        yield ("callback", row["pk"]), row["created_s"], row_key(query.group_by, KEYS["callbacks"], row), counts


PARTS = ("deals", "leads", "requests", "callbacks")


def process_items(*, user, query: ProcessQuery, period: Period, now, parts=PARTS, extra: dict | None = None):
    """Every row the report counts for `period`: (kind and id, when (a datetime, or unix seconds),
    group key, what it counts).
    The report sums them; the drill-down lists those that count in a figure. `parts` and `extra`
    (a further filter per part) serve the rollup (okno.analytics.process_rollup)."""
    lo, hi = period.bounds()
    if extra is not None:  # a part the filter leaves nothing of (None) is not read (requests: request_items)
        parts = [p for p in parts if p == "requests" or extra.get(p, True) is not None]
    if "deals" in parts:
        yield from _deal_items(user=user, query=query, lo=lo, hi=hi, extra=extra)
    if "leads" in parts:
        yield from _lead_items(user=user, query=query, lo=lo, hi=hi, extra=extra)
    if "requests" in parts:
        yield from request_items(user=user, query=query, lo=lo, hi=hi, extra=extra)
    if "callbacks" in parts:
        yield from _callback_items(user=user, query=query, lo=lo, hi=hi, now=now, extra=extra)


# --- rows ------------------------------------------------------------------------------------------

def figures(acc: dict) -> dict:
    return {
        "deals": acc["deals"], "processed": acc["processed"],
        "processing_seconds_avg": avg(acc["processing_ms"] / 1000, acc["processed"]),
        "paused": acc["paused"], "pause_seconds_avg": avg(acc["pause_ms"] / 1000, acc["pauses"]),
        "lost_in_pause": acc["lost_in_pause"], "lost_in_pause_share": avg(acc["lost_in_pause"] * 100, acc["paused"]),
        "leads": acc["leads"], "leads_converted": acc["leads_converted"],
        "conversion_share": avg(acc["leads_converted"] * 100, acc["leads"]), "leads_late": acc["leads_late"],
        "requests": acc["requests"], "unanswered": acc["unanswered"],
        "unanswered_share": avg(acc["unanswered"] * 100, acc["requests"]), "left_quickly": acc["left_quickly"],
        "offline": acc["offline"], "spam": acc["spam"], "callbacks": acc["callbacks"],
        "callbacks_late": acc["callbacks_late"],
        "callback_seconds_avg": avg(acc["callback_ms"] / 1000, acc["callbacks_closed"]),
    }


def _labels(group_by: str, keys, memo: dict | None = None) -> dict:
    """{key: label}; `memo` keeps those read for the report's other period (mostly the same)."""
    memo = {} if memo is None else memo
    known = memo.setdefault("labels", {})
    missing = [k for k in keys if k not in known]
    if missing:
        known.update(_read_labels(group_by, missing))
    return {k: known[k] for k in keys}


def _read_labels(group_by: str, keys) -> dict:
    ids = [k for k in keys if k is not None]
    if group_by == "source":
        return {k: k if k is not None else _("No source") for k in keys}
    model, none = {"department": (Department, _("No department")), "employee": (User, _("No employee")),
                   "pipeline": (Pipeline, _("No pipeline"))}[group_by]
    if model is User:
        names = user_names(ids)
    else:
        names = dict(model.objects.filter(pk__in=ids).values_list("pk", "name"))
    return {k: names.get(k, f"#{k}") if k is not None else none for k in keys}


def add_items(accs: dict, items) -> None:
    """Sums process_items' counts into `accs` (group key -> counts)."""
    for _ref, _at, key, counts in items:
        acc = accs.get(key)
        if acc is None:
            acc = accs[key] = _new()
        for name, value in counts.items():
            acc[name] += value


def process_accumulate(*, user, query: ProcessQuery, period: Period, now, rollup: bool = True,
                       memo: dict | None = None) -> dict:
    """The period's counts per group key: past days from the rollup where it can answer
    (okno.analytics.process_rollup_read), the rest live. `memo`: what a report's periods share."""
    if rollup:
        from okno.analytics.process_rollup_read import process_rollup_accumulate  # it imports this module

        accs = process_rollup_accumulate(user=user, query=query, period=period, now=now, memo=memo)
        if accs is not None:
            return accs
    accs: dict = {}
    add_items(accs, process_items(user=user, query=query, period=period, now=now))
    return accs


def _one(*, user, query: ProcessQuery, period: Period, now, memo: dict) -> dict:
    accs = process_accumulate(user=user, query=query, period=period, now=now, memo=memo)
    labels = _labels(query.group_by, list(accs), memo)
    total = _new()
    rows = []
    for key, acc in accs.items():
        for name in COUNTS:
            total[name] += acc[name]
        rows.append({"key": key, "label": labels[key], **figures(acc)})
    rows.sort(key=lambda r: (-(r["deals"] + r["leads"] + r["requests"]), str(r["label"]).casefold(), str(r["key"])))
    return {"from": period.start.isoformat(), "to": period.end.isoformat(), "rows": rows, "totals": figures(total)}


def process_report(*, user, query: ProcessQuery, now=None) -> dict:
    """The report the API answers and the page draws, for what `user` may see: an administrator
    everything, a head their department tree, anyone else their own deals, leads, chats and
    callbacks. `now` decides whether an open callback is already late (tests pin it)."""
    check_filters(user=user, department=query.department, employee=query.employee)
    now = now or timezone.now()
    memo: dict = {}  # the rollup's fingerprint, read once for both periods
    out = {"group_by": query.group_by, "compare": query.compare, "filters": query.filters(),
           **_one(user=user, query=query, period=query.period, now=now, memo=memo)}
    if query.compare:
        out["previous"] = _one(user=user, query=query, period=query.period.compared(query.compare), now=now,
                               memo=memo)
    return out
