"""The chats report (what LiveTex reports to its customers), computed live from the stored Jivo
facts: the chat conversations (`Conversation.kind=chat`, with `accepted_at`, `first_reply_at`,
`finished_at`, `rating`, `missed`, `spam` as okno.inbox.adapters.jivo records them) and their
messages. No nightly batch: a chat finished a second ago is in the next answer.

Definitions (docs/analytics.md, "Chats"):
- a chat counts in the period its `started_at` falls in (whole days, the company's time zone);
  a chat the provider marked as spam (Jivo's `blacklisted`) is counted apart (`spam`), in no other
  figure;
- accepted: an operator took it (`accepted_at`) or answered in it (an outbound message, or
  `first_reply_at`), and it is not missed;
- missed: the provider's fact (`missed`): an offline message (left while nobody was online;
  its message id starts with "offline:"), or a finished chat whose visitor got no reply
  (`missed_left`);
- first response: from the visitor's first message (else the chat's start) to the first
  operator message after it (else `first_reply_at`);
- response: every wait of the visitor (the first of their messages after an operator message,
  or the first of the chat) to the next operator message; its average over all such waits;
- ratings: `positive` (Jivo "positive", or 4-5 on a numeric scale) and `negative` ("negative",
  or 1-2), the share of positive among the rated.
"""

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.db.models import Exists, F, FloatField, Func, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from okno.analytics.labels import user_names
from okno.analytics.periods import (
    COMPARES,
    Period,
    avg,
    invalid,
    parse_choice,
    parse_date,
    parse_id,
    parse_known,
    parse_period,
)
from okno.analytics.scope import chats_scope_q, check_filters
from okno.inbox.models import Channel, Conversation, Message
from okno.people.models import Department

GROUPS = ("employee", "department", "channel", "day")
FILTERS = ("channel", "department", "employee")
PARAMS = {"from", "to", "group_by", "compare", *FILTERS}
FIGURES = ("chats", "accepted", "missed", "missed_offline", "missed_left", "first_response_seconds_avg",
           "response_seconds_avg", "rated", "rating_positive", "rating_negative", "rating_positive_share",
           "spam")
# The figures a drill-down lists the chats of (okno.analytics.views_chats).
LISTABLE = ("chats", "accepted", "missed", "missed_offline", "missed_left", "rated", "rating_positive",
            "rating_negative", "spam")
# Chat ids per look-up of their messages (under SQLite's 999 bound variables of old builds).
IDS_PER_QUERY = 900
POSITIVE = {"positive", "good", "4", "5"}
NEGATIVE = {"negative", "bad", "1", "2"}


@dataclass(frozen=True)
class ChatsQuery:
    period: Period
    group_by: str = "employee"
    compare: str = ""
    channel: int | None = None
    department: int | None = None
    employee: int | None = None

    def filters(self) -> dict:
        return {name: getattr(self, name) for name in FILTERS if getattr(self, name) is not None}


def chats_query_parse(params) -> ChatsQuery:
    """The report's question from a query string (the API's and the page's); a 422 naming the
    first bad parameter, as the calls report (okno.analytics.periods)."""
    parse_known(params, PARAMS)
    period = parse_period(params)
    group_by = parse_choice(params, "group_by", GROUPS, default="employee")
    compare = parse_choice(params, "compare", COMPARES)
    return ChatsQuery(period, group_by, compare, parse_id(params, "channel"), parse_id(params, "department"),
                      parse_id(params, "employee"))


# --- which chats ---------------------------------------------------------------------------------

def department_expr():
    """A chat's department: its operator's, else (a missed chat has none) its channel's."""
    return Coalesce(F("operator__department_id"), F("channel__department_id"))


def chats_queryset(*, user, query: ChatsQuery, period: Period, only: Q | None = None):
    """The chat conversations of the period `user` may count (None: all of them, for the rollup's
    build), filtered; annotated with `dep` (the department) and `offline` (it holds an offline
    message)."""
    lo, hi = period.bounds()
    offline = Message.objects.filter(conversation_id=OuterRef("pk"), external_id__startswith="offline:")
    qs = (Conversation.objects.filter(kind=Conversation.Kind.CHAT, started_at__gte=lo, started_at__lt=hi)
          .annotate(dep=department_expr(), offline=Exists(offline)))
    if user is not None:
        qs = qs.filter(chats_scope_q(user))
    if only is not None:  # a part of the period (okno.analytics.chats_rollup: today's rest)
        qs = qs.filter(only)
    if query.channel is not None:
        qs = qs.filter(channel_id=query.channel)
    if query.department is not None:
        qs = qs.filter(dep=query.department)
    if query.employee is not None:
        qs = qs.filter(operator_id=query.employee)
    return qs


def figure_q(figure: str) -> Q:
    """The chats behind a countable figure, as a filter on chats_queryset (the drill-down's list
    and the counting below must agree: test_chats_random checks it)."""
    not_spam = Q(spam=False)
    accepted = not_spam & Q(missed=False) & (Q(accepted_at__isnull=False) | Q(first_reply_at__isnull=False)
                                             | Q(Exists(Message.objects.filter(conversation_id=OuterRef("pk"),
                                                                               direction=Message.Direction.OUT))))
    return {
        "chats": not_spam, "accepted": accepted, "missed": not_spam & Q(missed=True),
        "missed_offline": not_spam & Q(missed=True, offline=True),
        "missed_left": not_spam & Q(missed=True, offline=False),
        "rated": not_spam & ~Q(rating=""), "rating_positive": not_spam & Q(rating__in=POSITIVE),
        "rating_negative": not_spam & Q(rating__in=NEGATIVE), "spam": Q(spam=True),
    }[figure]


# --- the computation -----------------------------------------------------------------------------

@dataclass
class _Acc:
    chats: int = 0
    accepted: int = 0
    missed: int = 0
    missed_offline: int = 0
    rated: int = 0
    positive: int = 0
    negative: int = 0
    spam: int = 0
    # [milliseconds, count]: whole milliseconds, so the rollup's sums (okno.analytics.chats_rollup)
    # equal these whatever the order they are added in.
    first: list = field(default_factory=lambda: [0, 0])
    resp: list = field(default_factory=lambda: [0, 0])

    def add(self, o: "_Acc") -> None:
        # Spelled out: a loop of getattr and setattr was most of a year by employee's totals.
        self.chats += o.chats
        self.accepted += o.accepted
        self.missed += o.missed
        self.missed_offline += o.missed_offline
        self.rated += o.rated
        self.positive += o.positive
        self.negative += o.negative
        self.spam += o.spam
        self.first[0] += o.first[0]
        self.first[1] += o.first[1]
        self.resp[0] += o.resp[0]
        self.resp[1] += o.resp[1]

    def figures(self) -> dict:
        return {
            "chats": self.chats, "accepted": self.accepted, "missed": self.missed,
            "missed_offline": self.missed_offline, "missed_left": self.missed - self.missed_offline,
            "first_response_seconds_avg": avg(self.first[0] / 1000, self.first[1]),
            "response_seconds_avg": avg(self.resp[0] / 1000, self.resp[1]),
            "rated": self.rated, "rating_positive": self.positive, "rating_negative": self.negative,
            "rating_positive_share": avg(self.positive * 100, self.rated), "spam": self.spam,
        }


def _key(group_by: str, row: dict):
    if group_by == "day":
        return row["day"]
    if group_by == "rollup":  # okno.analytics.chats_rollup's rows
        return row["operator_id"], row["channel_id"]
    return {"employee": row["operator_id"], "department": row["dep"], "channel": row["channel_id"]}[group_by]


class Epoch(Func):
    """A moment as unix seconds (a float) computed by the database: reading a transcript's
    thousands of message times as numbers skips Django's datetime parsing, most of the report's
    time on SQLite. Millisecond precision (SQLite's julianday); differences are rounded to it."""

    output_field = FloatField()
    # Both databases answer a float (or NULL) already: no per-value converter (Django's float()
    # of every value was a tenth of a process report).
    convert_value = staticmethod(Func._convert_value_noop)

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="((julianday(%(expressions)s) - 2440587.5) * 86400.0)",
                           **extra)

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="EXTRACT(EPOCH FROM %(expressions)s)::double precision",
                           **extra)


def _ms(later: float, earlier: float) -> int:
    return max(0, round((later - earlier) * 1000))


def _response_times(messages, started_at: float, first_reply_at: float | None) -> tuple[int | None, list[int]]:
    """(first response in milliseconds or None, every response in milliseconds) of one chat's
    messages [(direction, unix seconds)] in time order."""
    waiting_since = None
    first_in = None
    responses: list[int] = []
    for direction, at in messages:
        if direction == Message.Direction.IN:
            if waiting_since is None:
                waiting_since = at
            if first_in is None:
                first_in = at
        elif waiting_since is not None:
            responses.append(_ms(at, waiting_since))
            waiting_since = None
    first = None
    if first_in is not None and responses:
        first = responses[0]
    elif first_reply_at is not None:
        first = _ms(first_reply_at, first_in if first_in is not None else started_at)
    return first, responses


def _messages(ids: list[int]):
    """(chat id, direction, unix seconds) of the chats' messages, by chat and in time order."""
    if connection.vendor == "postgresql":
        # One statement with the ids as one array: 900-id IN lists were 40 statements for a
        # quarter of 18,000 chats, 1.1 s against 0.11 s (100,000 chats a year, docs/analytics.md).
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT conversation_id, direction, EXTRACT(EPOCH FROM sent_at)::double precision "
                           f"FROM {Message._meta.db_table} WHERE conversation_id = ANY(%s) "
                           f"ORDER BY conversation_id, sent_at, id", [ids])
            yield from cursor.fetchall()
        return
    for i in range(0, len(ids), IDS_PER_QUERY):  # by ids: SQLite plans an IN (subquery) badly
        yield from (Message.objects.filter(conversation_id__in=ids[i:i + IDS_PER_QUERY])
                    .order_by("conversation_id", "sent_at", "id")
                    .values_list("conversation_id", "direction", Epoch("sent_at")))


def chats_accumulate(*, user, query: ChatsQuery, period: Period, rollup: bool = True, only: Q | None = None) -> dict:
    """The period's chats counted: {group key: _Acc}. Past days from the rollup where it can answer
    (okno.analytics.chats_rollup), else live; `query.group_by` may also be "rollup" (live, keyed by
    (operator id, channel id): how the rollup builds a day)."""
    if rollup:
        from okno.analytics.chats_rollup_read import chats_rollup_accumulate  # it imports this module

        accs = chats_rollup_accumulate(user=user, query=query, period=period)
        if accs is not None:
            return accs
    tz = ZoneInfo(settings.TIME_ZONE)
    qs = chats_queryset(user=user, query=query, period=period, only=only)
    rows = list(qs.annotate(started_s=Epoch("started_at"), first_reply_s=Epoch("first_reply_at")).values(
        "pk", "operator_id", "dep", "channel_id", "started_at", "started_s", "accepted_at", "first_reply_s", "rating",
        "missed", "spam", "offline").order_by())
    messages: dict[int, list] = defaultdict(list)
    if rows:
        for conv_id, direction, at in _messages([r["pk"] for r in rows]):
            messages[conv_id].append((direction, at))
    accs: dict = {}
    for r in rows:
        r["day"] = r["started_at"].astimezone(tz).date().isoformat()
        acc = accs.setdefault(_key(query.group_by, r), _Acc())
        if r["spam"]:
            acc.spam += 1
            continue
        acc.chats += 1
        msgs = messages.get(r["pk"], [])
        replied = any(d == Message.Direction.OUT for d, _at in msgs)
        if r["missed"]:
            acc.missed += 1
            acc.missed_offline += bool(r["offline"])
        elif r["accepted_at"] or r["first_reply_s"] is not None or replied:
            acc.accepted += 1
        if r["rating"]:
            acc.rated += 1
            acc.positive += r["rating"] in POSITIVE
            acc.negative += r["rating"] in NEGATIVE
        first, responses = _response_times(msgs, r["started_s"], r["first_reply_s"])
        if first is not None:
            acc.first[0] += first
            acc.first[1] += 1
        acc.resp[0] += sum(responses)
        acc.resp[1] += len(responses)
    return accs


# --- labels ---------------------------------------------------------------------------------------

def _labels(group_by: str, keys) -> dict:
    ids = [k for k in keys if k is not None]
    if group_by == "employee":
        names = user_names(ids)
        return {k: names.get(k, f"#{k}") if k is not None else _("No employee") for k in keys}
    if group_by == "department":
        names = dict(Department.objects.filter(pk__in=ids).values_list("pk", "name"))
        return {k: names.get(k, f"#{k}") if k is not None else _("No department") for k in keys}
    if group_by == "channel":
        names = dict(Channel.objects.filter(pk__in=ids).values_list("pk", "name"))
        return {k: names.get(k, f"#{k}") for k in keys}
    return {k: k for k in keys}


def _rows(query: ChatsQuery, period: Period, accs: dict) -> tuple[list[dict], dict]:
    if query.group_by == "day":  # every day of the period, a quiet one too: the line chart has no gaps
        for key in period.day_keys():
            accs.setdefault(key, _Acc())
    labels = _labels(query.group_by, list(accs))
    total = _Acc()
    rows = []
    for key, acc in accs.items():
        total.add(acc)
        rows.append({"key": key, "label": labels[key], **acc.figures()})
    if query.group_by == "day":
        rows.sort(key=lambda r: r["key"])
    else:
        rows.sort(key=lambda r: (-r["chats"], str(r["label"]).casefold(), str(r["key"])))
    return rows, total.figures()


def chats_report(*, user, query: ChatsQuery) -> dict:
    """The report the API answers and the page draws, for what `user` may see
    (okno.analytics.scope.chats_scope_q): {"from", "to", "group_by", "compare", "filters", "rows",
    "totals", "previous": {...} when compared}."""
    check_filters(user=user, department=query.department, employee=query.employee)

    def one(period: Period) -> dict:
        rows, totals = _rows(query, period, chats_accumulate(user=user, query=query, period=period))
        return {"from": period.start.isoformat(), "to": period.end.isoformat(), "rows": rows, "totals": totals}

    out = {"group_by": query.group_by, "compare": query.compare, "filters": query.filters(), **one(query.period)}
    if query.compare:
        out["previous"] = one(query.period.compared(query.compare))
    return out


def with_day_grouping(query: ChatsQuery) -> ChatsQuery:
    return replace(query, group_by="day", compare="")


def drill_parse(params, query: ChatsQuery) -> tuple[str, object]:
    """(figure, group key) of a drill-down: `figure` one of LISTABLE, `key` the row's key
    (empty: the totals; "none": the row without one)."""
    figure = parse_choice(params, "figure", LISTABLE, default="chats")
    raw = (params.get("key") or "").strip()
    if not raw:
        return figure, ""
    if raw == "none":
        return figure, None
    if query.group_by == "day":
        return figure, parse_date({"key": raw}, "key").isoformat()
    key = parse_id({"key": raw}, "key")
    if key is None:
        raise invalid("key", "must be an id, a day or none")
    return figure, key


def chats_drill(*, user, query: ChatsQuery, figure: str, key) -> QuerySet[Conversation]:
    """The chats behind one figure of one row (key "" = the totals), newest first: what the report
    counted, by the same filters (figure_q)."""
    check_filters(user=user, department=query.department, employee=query.employee)
    qs = chats_queryset(user=user, query=query, period=query.period).filter(figure_q(figure))
    if key != "":
        if query.group_by == "day":
            lo, hi = Period(date.fromisoformat(key), date.fromisoformat(key)).bounds()
            qs = qs.filter(started_at__gte=lo, started_at__lt=hi)
        else:
            name = {"employee": "operator_id", "department": "dep", "channel": "channel_id"}[query.group_by]
            qs = qs.filter(**({f"{name}__isnull": True} if key is None else {name: key}))
    return qs.select_related("contact", "channel", "operator").order_by("-started_at", "-pk")
