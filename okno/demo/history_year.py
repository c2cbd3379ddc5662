"""A year of calls and Jivo chats before the detailed six weeks (history.py), so the reports look
like a real company's: a daily rhythm (a morning and an afternoon peak), a weekly one (Monday
busiest, the weekend quiet), the seasons, each employee's holidays and sick days, and one bad
week when the call centre missed a third of its calls and called back late.

Rows are written directly with insert_rows (no PBX facts, no legs or recordings: what the reports
and the cards' timelines read), to keep the year's cost to the demo seed small (docs/setup.md).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from okno.contacts.models import Contact, ContactPhone
from okno.core.bulk import insert_rows
from okno.inbox.models import Channel, Conversation, Message
from okno.people.models import User
from okno.telephony.models import Call
from okno.timeline.models import Activity

YEAR_DAYS = 365
# history.py seeds the last six weeks in detail (stories, recordings, owed callbacks).
RECENT_DAYS = 42
# A working employee's calls on an ordinary weekday (inbound and outbound together).
CALLS_PER_DAY = 5.0
CHATS_PER_DAY = 45.0  # the whole company's, on an ordinary weekday
WEEKDAY = (1.2, 1.05, 1.0, 1.0, 0.9, 0.3, 0.15)  # Monday .. Sunday
# Hours 8..20: a morning peak at 11, an afternoon one at 15.
HOURS = {8: 2, 9: 6, 10: 9, 11: 11, 12: 9, 13: 6, 14: 9, 15: 10, 16: 9, 17: 7, 18: 4, 19: 2, 20: 1}
MISSED = 0.08
BAD_WEEK_MISSED = 0.5  # half: a bad week stands out even in a small demo (a test compares it)
CALLED_BACK = 0.75
BAD_WEEK_CALLED_BACK = 0.35
CUSTOMERS = 4000  # the cards the year's calls and chats come from
POSITIVE, NEGATIVE = "positive", "negative"


@dataclass
class YearReport:
    calls: int = 0
    chats: int = 0
    bad_week: str = ""


def _profile(day: datetime) -> float:
    """The day's volume: the weekday's and a season's (a summer dip, a December rush)."""
    season = 1 + 0.12 * math.cos(2 * math.pi * (day.timetuple().tm_yday - 15) / 365)
    december = 1.25 if day.month == 12 and day.day > 10 else 1.0
    return WEEKDAY[day.weekday()] * season * december


def _absences(rng: random.Random, users: list[User], days: list) -> set[tuple[int, object]]:
    """Each employee's days off: two holidays of 5-12 days and a few sick days."""
    off = set()
    for user in users:
        for length in (rng.randrange(5, 13), rng.randrange(5, 10)):
            first = rng.randrange(0, max(1, len(days) - length))
            off.update((user.pk, d) for d in days[first:first + length])
        off.update((user.pk, days[rng.randrange(len(days))]) for _ in range(rng.randrange(1, 6)))
    return off


def _count(rng: random.Random, mean: float) -> int:
    """How many of something happen when `mean` are expected: Poisson-like, so a small demo's
    fraction of a call a day still adds up over the year."""
    if mean >= 5:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    return int(mean) + (rng.random() < mean - int(mean))


def _moment(rng: random.Random, day) -> datetime:
    hour = rng.choices(list(HOURS), weights=list(HOURS.values()))[0]
    local = datetime(day.year, day.month, day.day, hour, rng.randrange(60), rng.randrange(60),
                     tzinfo=timezone.get_current_timezone())
    return local


def _customers(rng: random.Random) -> list[tuple[int, str]]:
    rows = list(ContactPhone.objects.filter(contact__status=Contact.Status.ACTIVE).order_by("contact_id")
                .values_list("contact_id", "e164")[:CUSTOMERS * 3])
    seen, out = set(), []
    for contact_id, phone in rows:
        if contact_id not in seen:
            seen.add(contact_id)
            out.append((contact_id, phone))
    rng.shuffle(out)
    return out[:CUSTOMERS]


def history_year_seed(*, seed: int | None, say, scale: float = 1.0, now: datetime | None = None) -> YearReport:
    """The year before the detailed six weeks; called by `demo_seed` after history.py. `scale`
    shrinks the volume with a smaller demo (the tests' 400 cards)."""
    rng = random.Random(f"year-{seed}" if seed is not None else None)
    now = (now or timezone.now()).replace(microsecond=0)
    report = YearReport()
    pbx = Channel.objects.filter(kind="mango").order_by("pk").first()
    jivo = Channel.objects.filter(kind="jivo").order_by("pk").first()
    users = list(User.objects.filter(is_active=True, department__isnull=False).select_related("department"))
    customers = _customers(rng)
    if pbx is None or not users or not customers:
        return report
    today = timezone.localdate(now)
    days = [today - timedelta(days=n) for n in range(YEAR_DAYS, RECENT_DAYS, -1)]
    bad_start = days[len(days) - 8 * 7 - days[-8 * 7].weekday()]  # a Monday two months before the six weeks
    bad = {bad_start + timedelta(days=n) for n in range(7)}
    report.bad_week = bad_start.isoformat()
    off = _absences(rng, users, days)
    takers = [u for u in users if u.role != User.Role.HEAD]
    operators = [u for u in takers if u.department.name == "Колл-центр"] or takers
    calls: list[dict] = []
    for day in days:
        volume = _profile(datetime(day.year, day.month, day.day))
        missed_share = BAD_WEEK_MISSED if day in bad else MISSED
        called_back = BAD_WEEK_CALLED_BACK if day in bad else CALLED_BACK
        for user in takers:
            if (user.pk, day) in off:
                continue
            n = _count(rng, CALLS_PER_DAY * volume * scale)
            for _ in range(n):
                calls += _call(rng, user, pbx, _moment(rng, day), rng.choice(customers), missed_share, called_back)
    _write_calls(calls)
    report.calls = len(calls)
    say(f"{report.calls} calls over the year before (a bad week for missed calls from {report.bad_week})")
    if jivo is not None:
        report.chats = _chats(rng, jivo, operators, customers, days, off, scale)
        say(f"{report.chats} Jivo chats over the year before")
    return report


def _call(rng, user, pbx, at, customer, missed_share, called_back) -> list[dict]:
    contact_id, phone = customer
    base = {"channel_id": pbx.pk, "customer_number": phone, "contact_id": contact_id, "line": "74951234567",
            "department_id": user.department_id, "employee_id": user.pk}
    inbound = rng.random() < 0.62
    if inbound and rng.random() < missed_share:
        wait = rng.randrange(10, 60)
        missed = {"direction": "in", "outcome": rng.choice(("missed", "missed", "missed", "abandoned", "busy")),
                  "started_at": at, "ended_at": at + timedelta(seconds=wait), "wait_seconds": wait, **base}
        if rng.random() >= called_back:
            return [missed]
        back = at + timedelta(seconds=wait, minutes=rng.randrange(3, 28) * (3 if missed_share > MISSED else 1))
        return [missed, _answered(rng, "out", back, base)]
    return [_answered(rng, "in" if inbound else "out", at, base, no_answer=not inbound and rng.random() < 0.2)]


def _answered(rng, direction, at, base, *, no_answer: bool = False) -> dict:
    wait = rng.randrange(3, 25)
    if no_answer:
        return {"direction": direction, "outcome": "missed", "started_at": at,
                "ended_at": at + timedelta(seconds=wait + 20), "wait_seconds": wait + 20, **base}
    # Talk time: mostly one to five minutes, some a quick "wrong number" under the 20 s threshold.
    talk = int(min(3600, rng.lognormvariate(math.log(110), 0.8))) if rng.random() > 0.12 else rng.randrange(3, 20)
    answered = at + timedelta(seconds=wait)
    return {"direction": direction, "outcome": "answered", "started_at": at, "answered_at": answered,
            "ended_at": answered + timedelta(seconds=talk), "wait_seconds": wait, "talk_seconds": talk, **base}


def _write_calls(calls: list[dict]) -> None:
    """Rows, not model instances (insert_rows: 5x cheaper), then their ids read back by PBX id for
    the cards' timeline entries."""
    for n, call in enumerate(calls):
        call["pbx_call_id"] = f"year-{n:07d}"
        call["created_at"], call["updated_at"] = call["started_at"], call["ended_at"]
    insert_rows(Call, calls)
    ids = dict(Call.objects.filter(pbx_call_id__startswith="year-").values_list("pbx_call_id", "pk"))
    call_type = ContentType.objects.get_for_model(Call).pk
    insert_rows(Activity, [
        {"contact_id": c["contact_id"], "kind": Activity.Kind.CALL, "occurred_at": c["started_at"],
         "summary": _summary(c), "detail_type_id": call_type, "detail_id": ids[c["pbx_call_id"]]} for c in calls])


def _summary(call: dict) -> str:
    if call["outcome"] != "answered":
        return "Пропущенный входящий" if call["direction"] == "in" else "Исходящий без ответа"
    minutes, seconds = divmod(call["talk_seconds"], 60)
    return f"{'Входящий' if call['direction'] == 'in' else 'Исходящий'}, {minutes}:{seconds:02d}"


def _chats(rng, jivo, operators, customers, days, off, scale) -> int:
    convs, threads = [], []
    for day in days:
        mean = CHATS_PER_DAY * scale * _profile(datetime(day.year, day.month, day.day))
        n = _count(rng, mean)
        here = [u for u in operators if (u.pk, day) not in off] or operators
        for _ in range(n):
            at = _moment(rng, day)
            contact_id, _phone = rng.choice(customers)
            operator = rng.choice(here)
            missed = rng.random() < 0.1
            first = None if missed else at + timedelta(seconds=int(rng.lognormvariate(math.log(40), 0.7)))
            end = (first or at) + timedelta(minutes=rng.randrange(2, 25))
            rating = "" if missed or rng.random() < 0.6 else (POSITIVE if rng.random() < 0.85 else NEGATIVE)
            convs.append(Conversation(channel=jivo, contact_id=contact_id, kind=Conversation.Kind.CHAT,
                                      external_id=f"year-{len(convs):07d}", subject="", started_at=at,
                                      last_message_at=end, accepted_at=first, first_reply_at=first, finished_at=end,
                                      rating=rating, missed=missed, operator=None if missed else operator,
                                      operator_name="" if missed else operator.get_full_name()))
            threads.append((at, first, missed, operator))
    Conversation.objects.bulk_create(convs, batch_size=2000)
    messages, activities = [], []
    chat_type = ContentType.objects.get_for_model(Conversation).pk
    for conv, (at, first, missed, operator) in zip(convs, threads, strict=True):
        messages.append({"conversation_id": conv.pk, "direction": Message.Direction.IN,
                         "external_id": f"offline:{conv.external_id}" if missed else f"{conv.external_id}-1",
                         "text": "Здравствуйте, есть вопрос по заказу", "sent_at": at})
        if not missed:
            messages.append({"conversation_id": conv.pk, "direction": Message.Direction.OUT,
                             "external_id": f"{conv.external_id}-2", "author_id": operator.pk,
                             "author_name": operator.get_full_name(), "text": "Добрый день! Сейчас посмотрю.",
                             "sent_at": first})
        activities.append({"contact_id": conv.contact_id, "kind": Activity.Kind.CHAT, "occurred_at": at,
                           "summary": "Чат на сайте (Jivo)", "detail_type_id": chat_type, "detail_id": conv.pk})
    insert_rows(Message, messages)
    insert_rows(Activity, activities)
    return len(convs)
