"""Building the chats report's rollup (okno.analytics.models_rollup.ChatStat): each past day's
chats per operator and channel, per department and channel and per channel, each whole past month's summed
from its days, and today's settled chats every minute; chats_rollup_read.py reads them.

How it stays right (docs/analytics.md, "The chats report's rollup"), as the calls rollup does:
- A day is built by the live report's own per-chat computation (chats_report.chats_accumulate,
  grouped by operator and channel), so a built day equals the live figures of that day; every
  average is kept as a sum of whole milliseconds and a count, so sums of days equal live sums.
- The operator spans keep no department: reports read it through the operator and the channel,
  as the live report does. The department spans keep the build's department, and their
  fingerprint holds every person's and channel's department: after a move they are not read
  (the operator spans answer) until the worker has rebuilt them.
- A chat changes after its day was built when a late message, rating, end or spam mark arrives:
  every writer of conversations (okno.inbox) publishes the internal `conversation.changed` in
  its transaction, and the subscriber here marks the day (ChatStatMark); a marked day is read
  live until rebuilt.
- Today: every minute the worker sums today's chats that started and finished before `through`
  = now - SLACK, and keeps the ids of those that started before it and were left out; a report
  reads those sums plus, live, the chats started since and the ids left out. A change to a chat
  the sums may hold marks today, read live until the next build.
"""

import hashlib
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Min, Q, Sum
from django.utils import timezone

from okno.analytics.chats_report import ChatsQuery, _Acc, chats_accumulate
from okno.analytics.models_rollup import ChatStat, ChatStatCursor, ChatStatMark, ChatStatSpan
from okno.analytics.periods import Period
from okno.analytics.rollup import build_days, days_to_build, drain_days, local_day, lock, month_of, today
from okno.core import events
from okno.inbox.models import Channel, Conversation
from okno.people.models import User

# Raised when what a built span holds or how a chat is counted changes: every span built before
# reads live until the worker rebuilds it, newest first.
VERSION = 2  # 2: the channel spans (CHANNEL)
SUMS = ("chats", "accepted", "missed", "missed_offline", "rated", "positive", "negative", "spam",
        "first_response_ms", "first_responses", "response_ms", "responses")
# Today's sums hold chats that finished this long ago: a chat's facts (its end, its rating, the
# last lines of its transcript) arrive within minutes of its end.
SLACK = timedelta(minutes=10)
EVERY = timedelta(seconds=60)
# Past this many chats left out (a provider whose ends never arrive), today is read live.
MAX_PENDING = 5000
FINE = {"day": ChatStat.Span.DAY, "month": ChatStat.Span.MONTH, "today": ChatStat.Span.TODAY}
COARSE = {"day": ChatStat.Span.DAY_DEPARTMENT, "month": ChatStat.Span.MONTH_DEPARTMENT,
          "today": ChatStat.Span.TODAY_DEPARTMENT}
CHANNEL = {"day": ChatStat.Span.DAY_CHANNEL, "month": ChatStat.Span.MONTH_CHANNEL,
           "today": ChatStat.Span.TODAY_CHANNEL}


def chats_fingerprint() -> str:
    """The operator spans': what counts and where days begin."""
    return hashlib.sha1(f"chats|{VERSION}|{settings.TIME_ZONE}".encode()).hexdigest()


def departments_now() -> tuple[dict[int, int | None], dict[int, int | None]]:
    """(person -> department, channel -> department) as they are now: what a chat's department is
    read through."""
    return (dict(User.objects.values_list("pk", "department_id")),
            dict(Channel.objects.values_list("pk", "department_id")))


def coarse_fingerprint(people: dict, channels: dict) -> str:
    """The department spans': the operator spans' and every person's and channel's department
    (one query each per report: a few hundred rows)."""
    text = f"{chats_fingerprint()}|{sorted(people.items())}|{sorted(channels.items())}"
    return hashlib.sha1(text.encode()).hexdigest()


# --- marks ------------------------------------------------------------------------------------

def on_conversation_changed(event: events.Event) -> None:
    """Marks the day a changed chat started in when the rollup may hold it: a past day, or today
    when today's sums may (a query only for a chat that started SLACK ago or earlier)."""
    conv = event.subject
    if not isinstance(conv, Conversation) or conv.kind != Conversation.Kind.CHAT or conv.started_at is None:
        return
    now = timezone.now()
    day = local_day(conv.started_at)
    if day < local_day(now) or (conv.started_at < now - SLACK and _in_today_sums(conv, day)):
        ChatStatMark.objects.create(day=day)


def _in_today_sums(conv: Conversation, day: date) -> bool:
    """Whether today's sums may hold this chat: it started before their `through` and is not one
    they left out (a chat recorded late, after the build, is neither: marked too)."""
    span = ChatStatSpan.objects.filter(span=ChatStat.Span.TODAY, start=day).values_list("through", "pending").first()
    if span is None or span[0] is None or conv.started_at >= span[0]:
        return False
    return str(conv.pk) not in span[1].split(",")


# --- building ---------------------------------------------------------------------------------

def _sums(acc: _Acc) -> dict:
    return {"chats": acc.chats, "accepted": acc.accepted, "missed": acc.missed, "missed_offline": acc.missed_offline,
            "rated": acc.rated, "positive": acc.positive, "negative": acc.negative, "spam": acc.spam,
            "first_response_ms": acc.first[0], "first_responses": acc.first[1], "response_ms": acc.resp[0],
            "responses": acc.resp[1]}


def _coarse(rows: dict[tuple, dict], people: dict, channels: dict) -> dict[tuple, dict]:
    """Operator rows {(operator, channel): sums} as department rows {(department, channel): sums}."""
    out: dict[tuple, dict] = {}
    for (operator, channel), sums in rows.items():
        key = ((people.get(operator) if operator is not None else None) or channels.get(channel), channel)
        acc = out.setdefault(key, dict.fromkeys(SUMS, 0))
        for name in SUMS:
            acc[name] += sums[name]
    return out


def _by_channel(rows: dict[tuple, dict]) -> dict[tuple, dict]:
    """Operator rows {(operator, channel): sums} as channel rows {(None, channel): sums}."""
    out: dict[tuple, dict] = {}
    for (_operator, channel), sums in rows.items():
        acc = out.setdefault((None, channel), dict.fromkeys(SUMS, 0))
        for name in SUMS:
            acc[name] += sums[name]
    return out


def _save(span: str, start: date, rows: dict[tuple, dict], fingerprint: str, now: datetime, **extra) -> None:
    # The first of the row's key: the department (COARSE), nothing (CHANNEL) or the operator.
    column = "department_id" if span in COARSE.values() else None if span in CHANNEL.values() else "operator_id"
    ChatStat.objects.filter(span=span, start=start).delete()
    ChatStat.objects.bulk_create([
        ChatStat(span=span, start=start, channel_id=channel, **({column: key} if column else {}), **sums)
        for (key, channel), sums in rows.items()], batch_size=2000)
    ChatStatSpan.objects.update_or_create(span=span, start=start,
                                          defaults={"fingerprint": fingerprint, "built_at": now, **extra})


def _counted(day: date, only: Q | None = None) -> dict[tuple, dict]:
    period = Period(day, day)
    accs = chats_accumulate(user=None, query=ChatsQuery(period, group_by="rollup"), period=period, rollup=False,
                            only=only)
    return {key: _sums(acc) for key, acc in accs.items()}


def chats_build_day(*, day: date, now: datetime | None = None) -> int:
    """(Re)builds one past day, both kinds, and forgets its marks read before; its month is summed
    again later. Returns the operator rows written."""
    now = now or timezone.now()
    with transaction.atomic():
        lock(ChatStatCursor)
        marks = list(ChatStatMark.objects.filter(day=day).values_list("pk", flat=True))
        people, channels = departments_now()
        rows = _counted(day)
        _save(FINE["day"], day, rows, chats_fingerprint(), now)
        _save(COARSE["day"], day, _coarse(rows, people, channels), coarse_fingerprint(people, channels), now)
        _save(CHANNEL["day"], day, _by_channel(rows), chats_fingerprint(), now)
        ChatStatSpan.objects.filter(span__in=(FINE["month"], COARSE["month"], CHANNEL["month"]),
                                    start=month_of(day)[0]).delete()
        if marks:
            ChatStatMark.objects.filter(pk__in=marks).delete()
    return len(rows)


def chats_build_month(*, first: date, now: datetime | None = None) -> bool:
    """Sums a whole past month from its days, each kind once every day of it is built with the
    fingerprint in force and none is marked; returns whether it summed the operator kind."""
    first, last = month_of(first)
    if last >= today():
        return False
    now = now or timezone.now()
    done = False
    with transaction.atomic():
        lock(ChatStatCursor)
        if ChatStatMark.objects.filter(day__gte=first, day__lte=last).exists():
            return False
        people, channels = departments_now()
        for kind, fingerprint, key in ((FINE, chats_fingerprint(), "operator_id"),
                                       (COARSE, coarse_fingerprint(people, channels), "department_id"),
                                       (CHANNEL, chats_fingerprint(), None)):
            built = ChatStatSpan.objects.filter(span=kind["day"], start__gte=first, start__lte=last,
                                                fingerprint=fingerprint).count()
            if built != (last - first).days + 1:
                continue
            keys = [key, "channel_id"] if key else ["channel_id"]
            rows = {(r[key] if key else None, r["channel_id"]): {n: r[n] for n in SUMS}
                    for r in ChatStat.objects.filter(span=kind["day"], start__gte=first, start__lte=last).values(
                        *keys).annotate(**{n: Sum(n) for n in SUMS}).order_by()}
            _save(kind["month"], first, rows, fingerprint, now)
            done |= kind is FINE
    return done


def chats_build_today(*, now: datetime | None = None) -> bool:
    """(Re)builds today's sums; returns whether there are sums to read. A chat that finishes
    during the build finishes after `through`: left out, read live before or after."""
    now = now or timezone.now()
    day = local_day(now)
    lo, hi = Period(day, day).bounds()
    through = max(lo, now - SLACK)
    with transaction.atomic():
        lock(ChatStatCursor)
        marks = list(ChatStatMark.objects.filter(day=day).values_list("pk", flat=True))
        people, channels = departments_now()
        settled = Q(started_at__lt=through, finished_at__lt=through)
        rows = _counted(day, settled)
        pending = list(Conversation.objects.filter(kind=Conversation.Kind.CHAT, started_at__gte=lo,
                                                   started_at__lt=min(through, hi)).exclude(
            finished_at__lt=through).order_by().values_list("pk", flat=True)[:MAX_PENDING + 1])
        spans = (FINE["today"], COARSE["today"], CHANNEL["today"])
        for model in (ChatStat, ChatStatSpan):  # yesterday's
            model.objects.filter(span__in=spans).exclude(start=day).delete()
        if len(pending) > MAX_PENDING:
            for model in (ChatStat, ChatStatSpan):
                model.objects.filter(span__in=spans).delete()
            return False
        left_out = ",".join(str(pk) for pk in sorted(pending))
        _save(FINE["today"], day, rows, chats_fingerprint(), now, through=through, pending=left_out)
        _save(COARSE["today"], day, _coarse(rows, people, channels), coarse_fingerprint(people, channels), now,
              through=through, pending=left_out)
        _save(CHANNEL["today"], day, _by_channel(rows), chats_fingerprint(), now, through=through,
              pending=left_out)
        if marks:
            ChatStatMark.objects.filter(pk__in=marks).delete()
    return True


def _today_due(now: datetime) -> bool:
    day = local_day(now)
    built = ChatStatSpan.objects.filter(span=ChatStat.Span.TODAY, start=day).values_list(
        "built_at", "fingerprint").first()
    return (built is None or now - built[0] >= EVERY or built[1] != chats_fingerprint()
            or ChatStatMark.objects.filter(day=day).exists())


def _first_chat_day() -> date | None:
    first = Conversation.objects.filter(kind=Conversation.Kind.CHAT).aggregate(at=Min("started_at"))["at"]
    # From its month's first day: the first month then gets a span of its own. Read by days, a
    # year's previous year (a young install's first month) was 25 times the rows of a month.
    return local_day(first).replace(day=1) if first else None


def chats_rebuild(*, start: date | None = None, end: date | None = None, progress=None) -> dict:
    """Builds every past day of [start, end] (default: the first chat's month to yesterday) and their
    whole months; `manage.py analytics_rollup --rebuild`. Returns counts."""
    start = start or _first_chat_day()
    if start is None:
        return {"days": 0, "months": 0, "rows": 0}
    return build_days(start=start, end=end, cursor_model=ChatStatCursor, progress=progress,
                      build_day=lambda day: chats_build_day(day=day),
                      build_month=lambda first: chats_build_month(first=first))


def _stale(limit: int) -> list[date]:
    """Days built with another fingerprint (a new version, a person moved), newest first."""
    people, channels = departments_now()
    fine = ChatStatSpan.objects.filter(span=FINE["day"]).exclude(fingerprint=chats_fingerprint())
    coarse = ChatStatSpan.objects.filter(span=COARSE["day"]).exclude(fingerprint=coarse_fingerprint(people, channels))
    days = sorted(set(fine.order_by("-start").values_list("start", flat=True)[:limit])
                  | set(coarse.order_by("-start").values_list("start", flat=True)[:limit]), reverse=True)
    return days[:limit]


def chats_rollup_drain(*, now: datetime | None = None) -> int:
    """The worker's drain: builds the days that ended, rebuilds marked days and days built with
    another fingerprint, then their months, a few days a pass; and today's sums every minute.
    Returns the days built."""
    now = now or timezone.now()
    todo, through = days_to_build(now=now, cursor_model=ChatStatCursor, mark_model=ChatStatMark,
                                  first_day=_first_chat_day, stale=_stale)
    drain_days(todo=todo, through=through, cursor_model=ChatStatCursor,
               build_day=lambda day: chats_build_day(day=day, now=now),
               build_month=lambda first: chats_build_month(first=first, now=now))
    if _today_due(now):  # not counted as work: the worker still rests between passes
        chats_build_today(now=now)
    return len(todo)


def register() -> None:
    """From AnalyticsConfig.ready: the inbox's conversation events and the worker's drain."""
    from okno.core import worker

    events.subscribe("conversation.changed", on_conversation_changed, key="analytics.chats_rollup")
    worker.register_drain("analytics_chats_rollup", chats_rollup_drain, idle_sleep=10.0)
