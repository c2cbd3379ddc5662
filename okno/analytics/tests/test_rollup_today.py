"""Today's sums (okno.analytics.rollup_today): a report over today reads the settled calls from
the rollup and the rest live, and equals the report computed live, before and after the calls
change; what may change the sums marks today, and a call ending now costs no query."""

import random
from datetime import timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from okno.analytics import rollup_read
from okno.analytics.calls_report import CallsQuery, Period, calls_report
from okno.analytics.models_rollup import CallStat, CallStatMark, CallStatSpan
from okno.analytics.rollup import on_call_changed, rollup_check_changed, rollup_drain
from okno.analytics.rollup_today import SLACK, rollup_build_today, today_touched
from okno.analytics.tests.factories import call_row
from okno.core.events import Event
from okno.people.models import User
from okno.people.tests.factories import DepartmentFactory, UserFactory
from okno.telephony.models import Call

NUMBERS = [f"+7495000001{i}" for i in range(6)]


def _today_calls(rnd: random.Random, now, people: list) -> None:
    midnight = now.astimezone(ZoneInfo(settings.TIME_ZONE)).replace(hour=0, minute=0, second=0, microsecond=0)
    calls = []
    for _ in range(300):
        at = max(midnight, now - timedelta(minutes=rnd.choice([1, 5, 20, 35, 41, 45, 50, 90, 200, 600]),
                                           seconds=rnd.randrange(60)))
        outcome = rnd.choice(["answered", "answered", "answered", "missed", "busy", "ongoing", "talking"])
        call = call_row(at=at, direction=rnd.choice(["in", "in", "out", "internal"]),
                        outcome="answered" if outcome == "talking" else outcome,
                        talk=rnd.choice([5, 20, 60, 3000]), wait=rnd.choice([3, 30, 600]),
                        employee=rnd.choice([*people, None]), number=rnd.choice(NUMBERS))
        if outcome == "talking":  # answered and still in progress: it ends later
            call.ended_at = call.talk_seconds = None
        calls.append(call)
    Call.objects.bulk_create(calls)


def _queries(people: list, head: User, admin: User):
    today = timezone.localdate(timezone=ZoneInfo(settings.TIME_ZONE))
    for user in (admin, head, people[0]):
        for group_by in ("employee", "department", "line", "day"):
            for start in (today, today - timedelta(days=3)):
                yield user, CallsQuery(Period(start, today), group_by=group_by)
        yield user, CallsQuery(Period(today, today), group_by="employee", direction="out")


def _assert_equal_live(monkeypatch, people, head, admin) -> int:
    used = 0
    for user, query in _queries(people, head, admin):
        with monkeypatch.context() as m:
            m.setattr(rollup_read, "rollup_accumulate", lambda **kw: None)
            want = calls_report(user=user, query=query)
        plan = rollup_read._plan(query.period, months_allowed=True, fine=True,
                                 fingerprint=rollup_read.rollup_fingerprint(
                                     threshold=20, overrides={}, window=timedelta(minutes=30)))
        used += plan[4] is not None
        got = calls_report(user=user, query=query)
        assert got["rows"] == want["rows"], [(g, w) for g, w in zip(got["rows"], want["rows"], strict=False) if g != w]
        assert got == want, (user.username, query)
    return used


def test_today_from_its_sums_and_the_rest_live_equals_the_live_report(db, monkeypatch):
    # given 300 calls of today: settled, recent, in progress, missed and called back or not
    rnd = random.Random(2016)
    sales = DepartmentFactory(name="Продажи")
    people = [UserFactory(department=sales), UserFactory(department=sales), UserFactory(department=None)]
    head = UserFactory(role=User.Role.HEAD, department=sales)
    admin = UserFactory(role=User.Role.ADMIN, department=None)
    now = timezone.now()
    _today_calls(rnd, now, people)
    # when the worker builds today's sums
    assert rollup_build_today(now=now)
    span = CallStatSpan.objects.get(span=CallStat.Span.TODAY)
    assert span.through == max(now - timedelta(minutes=30) - SLACK,
                               now.astimezone(ZoneInfo(settings.TIME_ZONE)).replace(hour=0, minute=0, second=0,
                                                                                    microsecond=0))
    # then every report over today equals the live one, and read the sums
    used = _assert_equal_live(monkeypatch, people, head, admin)
    assert used >= 1 or span.through.astimezone(ZoneInfo(settings.TIME_ZONE)).hour == 0

    # when a settled call changes afterwards (a late CDR line), through the telephony's event
    settled = Call.objects.filter(ended_at__lt=span.through, outcome="answered").first()
    if settled is not None:
        Call.objects.filter(pk=settled.pk).update(talk_seconds=1)
        settled.refresh_from_db()
        on_call_changed(Event(name="call.finished", subject=settled))
        # then today is marked and read live, still equal
        assert CallStatMark.objects.filter(day=timezone.localdate()).exists()
        _assert_equal_live(monkeypatch, people, head, admin)
    # when a missed call of the sums is called back by an outbound call that started 20 minutes ago
    missed = Call.objects.filter(direction="in", outcome="missed", ended_at__lt=span.through).first()
    if missed is not None:
        back = call_row(at=missed.ended_at + timedelta(minutes=5), direction="out", number=missed.customer_number)
        back.save()
        assert today_touched(call=back, now=back.started_at + SLACK + timedelta(minutes=1))
    # and the worker's next pass builds the sums again: equal once more
    rollup_drain(now=timezone.now())
    assert not CallStatMark.objects.filter(day=timezone.localdate()).exists()
    _assert_equal_live(monkeypatch, people, head, admin)


def test_a_call_ending_now_costs_no_query_and_a_bulk_write_marks_today(db, django_assert_num_queries):
    now = timezone.now()
    employee = UserFactory()
    call = call_row(at=now - timedelta(minutes=3), employee=employee)
    with django_assert_num_queries(0):
        assert not today_touched(call=call, now=now)
        on_call_changed(Event(name="call.finished", subject=call))
    # given today's sums built over a call that ended an hour ago
    old = call_row(at=now - timedelta(hours=1), employee=employee)
    old.save()
    rollup_check_changed(force=True)  # the first look only starts the cursor
    if (not rollup_build_today(now=now) or CallStatSpan.objects.get(span="dayp").through <= old.ended_at
            or timezone.localdate(old.started_at) != timezone.localdate(now)):
        return  # just after midnight: nothing settled yet
    # when a bulk write (no event) changes it, the worker's look at updated_at marks today
    Call.objects.filter(pk=old.pk).update(talk_seconds=1, updated_at=timezone.now())
    rollup_check_changed(force=True)
    assert CallStatMark.objects.filter(day=timezone.localdate()).exists()
