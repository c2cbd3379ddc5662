"""The report's SQL equals a plain Python computation over the raw rows, for 200 random
(period, grouping, comparison, filters, viewer) combinations over generated calls."""

import random
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings

from okno.analytics.calls_report import CallsQuery, Period, calls_report
from okno.analytics.models import AnalyticsSettings, DepartmentThreshold
from okno.analytics.tests.factories import call_row, local
from okno.contacts.models import Contact, Tag
from okno.contacts.tests.factories import make_contact
from okno.people.models import User
from okno.people.tests.factories import DepartmentFactory, UserFactory
from okno.telephony import call_list as module
from okno.telephony.models import Call

START = date(2026, 9, 1)
SPAN_DAYS = 70
NUMBERS = [f"+7495000000{i}" for i in range(8)] + [""]
LINES = ["+74951110000", "+74952220000", ""]
OUTCOMES = ["answered"] * 6 + ["missed", "missed", "abandoned", "busy", "failed", "voicemail", "machine", "ongoing",
            "talking"]
FILTER_OUTCOMES = ["answered", "successful", "missed", "called_back", "missed_not_called_back", "machine"]


def _company(rnd: random.Random):
    sales = DepartmentFactory(name="Продажи")
    desk = DepartmentFactory(name="Сектор", parent=sales)
    support = DepartmentFactory(name="Поддержка")
    people = [UserFactory(department=d) for d in (sales, sales, desk, support)]
    head = UserFactory(role=User.Role.HEAD, department=sales)
    admin = UserFactory(role=User.Role.ADMIN, department=None)
    contacts = [make_contact(first_name=f"Клиент{i}", phones=[]) for i in range(2)]
    calls = []
    for _ in range(400):
        day = START + timedelta(days=rnd.randrange(SPAN_DAYS))
        at = local(day.isoformat(), rnd.randrange(24), rnd.randrange(60), rnd.randrange(60))
        if rnd.random() < 0.05:  # on the stroke of midnight: the boundary of two days
            at = local(day.isoformat(), 0, 0, 0)
        employee = rnd.choice([*people, None])
        outcome = rnd.choice(OUTCOMES)
        call = call_row(
            at=at, direction=rnd.choice(["in", "in", "out", "internal"]),
            outcome="answered" if outcome == "talking" else outcome,
            talk=rnd.choice([0, 5, 19, 20, 21, 29, 30, 31, 120]), wait=rnd.choice([0, 3, 15, 40, 600, 1800]),
            employee=employee, department=rnd.choice([sales, desk, support, None]) if employee is None else None,
            number=rnd.choice(NUMBERS), line=rnd.choice(LINES), contact=rnd.choice([*contacts, None]))
        if outcome == "talking":  # answered and still in progress: counted only once it ends
            call.ended_at = call.talk_seconds = None
        calls.append(call)
    Call.objects.bulk_create(calls)
    return {"viewers": [admin, head, people[0], people[3]], "people": people, "departments": [sales, desk, support]}


def _visible(user, row) -> bool:
    if user.is_admin:
        return True
    if user.role == User.Role.HEAD:
        return row["department_id"] in user.department.subtree_ids()
    return row["employee_id"] == user.pk


def _avg(total, n):
    return round(total / n, 1) if n else None


def _callback_seconds(m, rows, window: timedelta) -> float | None:
    """Seconds to call the missed call `m` back, or None when nobody called it back in time."""
    ref = m["ended_at"] or m["started_at"]
    found = [o["started_at"] for o in rows if o["direction"] == "out" and o["outcome"] == "answered"
             and m["customer_number"] and o["customer_number"] == m["customer_number"]
             and ref <= o["started_at"] <= ref + window]
    return (min(found) - ref).total_seconds() if found else None


def _is(r, outcome: str, rows, *, threshold: int, overrides: dict, window: timedelta) -> bool:
    missed = r["direction"] == "in" and r["outcome"] != "answered"
    if outcome == "successful":
        return r["outcome"] == "answered" and r["talk_seconds"] >= overrides.get(r["department_id"], threshold)
    if outcome == "missed":
        return missed
    if outcome in ("called_back", "missed_not_called_back"):
        return missed and (_callback_seconds(r, rows, window) is not None) == (outcome == "called_back")
    return r["outcome"] == outcome


def expected(rows, *, user, query: CallsQuery, period: Period, threshold: int, overrides: dict, window: timedelta,
             tagged: frozenset = frozenset()):
    """The definitions of docs/analytics.md, read off the raw rows one by one."""
    tz = ZoneInfo(settings.TIME_ZONE)
    lo = datetime.combine(period.start, time.min, tzinfo=tz)
    hi = datetime.combine(period.end + timedelta(days=1), time.min, tzinfo=tz)
    key_of = {"employee": lambda r: r["employee_id"], "department": lambda r: r["department_id"],
              "line": lambda r: r["line"], "client": lambda r: r["contact_id"],
              "day": lambda r: r["started_at"].astimezone(tz).date().isoformat()}[query.group_by]
    groups = defaultdict(list)
    if query.group_by == "day":
        for i in range(period.days):
            groups[(period.start + timedelta(days=i)).isoformat()]
    for r in rows:
        unfinished = r["ended_at"] is None and r["outcome"] in ("answered", "machine")
        if r["outcome"] == "ongoing" or unfinished or not lo <= r["started_at"] < hi or not _visible(user, r):
            continue
        if (query.direction and r["direction"] != query.direction) or (query.line and r["line"] != query.line) \
                or (query.department is not None and r["department_id"] != query.department) \
                or (query.employee is not None and r["employee_id"] != query.employee):
            continue
        if (query.tag is not None and r["contact_id"] not in tagged) or (query.outcome and not _is(
                r, query.outcome, rows, threshold=threshold, overrides=overrides, window=window)):
            continue
        groups[key_of(r)].append(r)

    def figures(calls):
        answered = [c for c in calls if c["outcome"] == "answered"]
        missed = [c for c in calls if c["direction"] == "in" and c["outcome"] != "answered"]
        waited = [c for c in calls if c["direction"] == "in" and c["wait_seconds"] is not None]
        backs = [b for b in (_callback_seconds(m, rows, window) for m in missed) if b is not None]
        talk = sum(c["talk_seconds"] for c in answered)
        return {
            "calls": len(calls), "answered": len(answered),
            "successful": sum(1 for c in answered
                              if c["talk_seconds"] >= overrides.get(c["department_id"], threshold)),
            "missed": len(missed), "missed_not_called_back": len(missed) - len(backs), "talk_seconds": talk,
            "talk_seconds_avg": _avg(talk, len(answered)),
            "wait_seconds_avg": _avg(sum(c["wait_seconds"] for c in waited), len(waited)),
            "callback_seconds_avg": _avg(sum(backs), len(backs)),
        }

    everything = [c for calls in groups.values() for c in calls]
    return {k: figures(v) for k, v in groups.items()}, figures(everything)


def _strip(rows):
    return {r["key"]: {k: v for k, v in r.items() if k not in ("key", "label")} for r in rows}


def test_two_hundred_random_reports_equal_the_plain_computation(db, monkeypatch):
    # given 400 random calls over 70 days, a threshold of 20 s, desk's own of 30 s, a 30-minute window
    rnd = random.Random(16)
    company = _company(rnd)
    desk = company["departments"][1]
    AnalyticsSettings.objects.create(pk=1, success_threshold_seconds=20, callback_window_minutes=30)
    DepartmentThreshold.objects.create(department=desk, success_threshold_seconds=30)
    rows = list(Call.objects.values())
    vip = Tag.objects.create(name="VIP")
    first = Contact.objects.order_by("pk").first()
    first.tags.add(vip)
    for _ in range(200):
        # when a random report is asked
        start = START + timedelta(days=rnd.randrange(-5, SPAN_DAYS))
        period = Period(start, start + timedelta(days=rnd.randrange(0, 40)))
        user = rnd.choice(company["viewers"])
        query = CallsQuery(
            period, group_by=rnd.choice(["employee", "department", "line", "client", "day"]),
            compare=rnd.choice(["", "previous", "year"]),
            direction=rnd.choice(["", "", "in", "out"]), line=rnd.choice(["", "", *LINES[:2]]))
        if user.is_admin and rnd.random() < 0.3:
            query = CallsQuery(**{**query.__dict__, "department": rnd.choice(company["departments"]).pk})
        if user.is_admin and rnd.random() < 0.3:
            query = CallsQuery(**{**query.__dict__, "employee": rnd.choice(company["people"]).pk})
        if rnd.random() < 0.3:
            query = CallsQuery(**{**query.__dict__, "outcome": rnd.choice(FILTER_OUTCOMES)})
        if rnd.random() < 0.15:
            query = CallsQuery(**{**query.__dict__, "tag": vip.pk})
        # the callback look-up names the numbers in one query or in chunks
        monkeypatch.setattr(module, "NUMBERS_PER_QUERY", rnd.choice([2, 500]))
        report = calls_report(user=user, query=query)
        # then it equals the plain computation, row by row and in total, and its comparison too
        for got, p in [(report, period)] + ([(report["previous"], period.compared(query.compare))]
                                            if query.compare else []):
            want_rows, want_totals = expected(rows, user=user, query=query, period=p, threshold=20,
                                              overrides={desk.pk: 30}, window=timedelta(minutes=30),
                                              tagged=frozenset({first.pk}))
            context = (query, user.username, p)
            assert _strip(got["rows"]) == want_rows, context
            assert got["totals"] == want_totals, context
