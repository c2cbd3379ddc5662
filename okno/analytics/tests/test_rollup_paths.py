"""The rollup follows every way a built day's calls change: a late fact through the telephony's
path (its events mark the day in the same transaction), a later callback reaching back over
midnight, a bulk write that publishes nothing (the worker's look at updated_at), a changed
threshold, a deleted employee; the worker builds days as they end; the command refuses bad dates."""

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.utils import timezone

from okno.analytics.calls_report import CallsQuery, Period, calls_report
from okno.analytics.models import AnalyticsSettings
from okno.analytics.models_rollup import CallStat, CallStatCursor, CallStatMark, CallStatSpan
from okno.analytics.rollup import DAYS_PER_PASS, rollup_check_changed, rollup_drain, rollup_rebuild
from okno.analytics.tests.factories import local, make_call, pbx
from okno.people.models import User
from okno.people.tests.factories import UserFactory
from okno.telephony.calls import CallFact, call_fact_record
from okno.telephony.models import Call
from okno.telephony.services import extension_assign


def _today() -> date:
    return timezone.localdate(timezone=ZoneInfo(settings.TIME_ZONE))


def _totals(user, start: date, end: date, group_by: str = "employee") -> dict:
    return calls_report(user=user, query=CallsQuery(Period(start, end), group_by=group_by))["totals"]


def _live_totals(user, start: date, end: date, monkeypatch, group_by: str = "employee") -> dict:
    from okno.analytics import rollup_read

    with monkeypatch.context() as m:
        m.setattr(rollup_read, "rollup_accumulate", lambda **kw: None)
        return _totals(user, start, end, group_by)


@pytest.fixture
def admin(db):
    return UserFactory(role=User.Role.ADMIN, department=None)


def test_a_callback_after_midnight_marks_the_missed_calls_day(admin, monkeypatch):
    # given a missed call at 23:50 three days ago, that day built into the rollup
    missed_day = _today() - timedelta(days=3)
    make_call(at=local(missed_day.isoformat(), 23, 50), outcome="missed", wait=20, number="+74950000077")
    rollup_rebuild(start=missed_day)
    assert _totals(admin, missed_day, missed_day)["missed_not_called_back"] == 1
    # when the employee calls the number back at 00:05 the next day (the telephony's own path)
    channel, at = pbx(), local((missed_day + timedelta(days=1)).isoformat(), 0, 5)
    for kind, seconds in (("start", 0), ("answer", 10), ("end", 70)):
        call_fact_record(channel=channel, fact=CallFact(call_id="back-1", kind=kind, direction="out",
                                                        at=at + timedelta(seconds=seconds),
                                                        customer="+74950000077", extension="101"))
    # then the missed call's day is marked, and its report says called back at once
    assert CallStatMark.objects.filter(day=missed_day).exists()
    assert _totals(admin, missed_day, missed_day)["missed_not_called_back"] == 0
    # and once the worker rebuilt it, the rollup says so itself
    rollup_drain()
    assert not CallStatMark.objects.filter(day=missed_day).exists()
    built = CallStat.objects.get(span=CallStat.Span.DAY, start=missed_day, direction="in")
    assert (built.missed, built.called_back) == (1, 1)
    assert _totals(admin, missed_day, missed_day) == _live_totals(admin, missed_day, missed_day, monkeypatch)


def test_a_late_fact_of_a_built_day_through_the_telephony_path(admin, monkeypatch):
    # given a call two days ago that the PBX reported as missed, its day built
    day = _today() - timedelta(days=2)
    channel, at = pbx(), local(day.isoformat(), 10)
    for kind, seconds in (("start", 0), ("ring", 1), ("end", 30)):
        call_fact_record(channel=channel, fact=CallFact(call_id="late-1", kind=kind, direction="in", leg="l1",
                                                        at=at + timedelta(seconds=seconds), customer="+74950000078",
                                                        extension="101"))
    rollup_rebuild(start=day)
    assert _totals(admin, day, day)["missed"] == 1
    # when the answer arrives late (a ring group's second extension answered)
    for kind, seconds in (("answer", 20), ("end", 200)):
        call_fact_record(channel=channel, fact=CallFact(call_id="late-1", kind=kind, direction="in", leg="l2",
                                                        at=at + timedelta(seconds=seconds), customer="+74950000078",
                                                        extension="102"))
    # then the report counts it answered, as the live computation does
    totals = _totals(admin, day, day)
    assert (totals["missed"], totals["answered"]) == (0, 1)
    assert totals == _live_totals(admin, day, day, monkeypatch)


def test_a_bulk_write_without_an_event_is_found_by_the_worker(admin, monkeypatch):
    # given a built week, and a CDR import rewriting one of its calls (a bulk UPDATE, no event)
    day = _today() - timedelta(days=5)
    call = make_call(at=local(day.isoformat(), 12), talk=10)
    rollup_rebuild(start=day - timedelta(days=2))
    Call.objects.filter(pk=call.pk).update(talk_seconds=100, updated_at=timezone.now())
    # when the worker looks at the calls changed since its last look
    assert rollup_check_changed(force=True) >= 1
    # then the day reads right at once (live), and again once rebuilt
    assert _totals(admin, day, day)["talk_seconds"] == 100
    rollup_drain()
    assert _totals(admin, day, day)["talk_seconds"] == 100
    assert CallStat.objects.get(span=CallStat.Span.DAY, start=day).talk_seconds == 100


def test_an_extension_named_afterwards_recounts_its_built_days(admin, monkeypatch):
    # given calls through an extension nobody was named for yet, three days ago, that day built
    day = _today() - timedelta(days=3)
    channel, at = pbx(), local(day.isoformat(), 11)
    for kind, seconds in (("start", 0), ("answer", 5), ("end", 65)):
        call_fact_record(channel=channel, fact=CallFact(call_id="unnamed-1", kind=kind, direction="in",
                                                        at=at + timedelta(seconds=seconds),
                                                        customer="+74950000079", extension="555"))
    rollup_rebuild(start=day)
    anna = UserFactory()
    by_employee = calls_report(user=admin, query=CallsQuery(Period(day, day), group_by="employee"))
    assert {r["key"]: r["calls"] for r in by_employee["rows"]} == {None: 1}
    # when an administrator names the extension (the Unmatched extensions page, the API)
    assert extension_assign(channel=channel, code="555", user=anna) == 1
    # then the worker's look at the changed calls marks the day, and the report counts Anna's call
    assert rollup_check_changed(force=True) >= 1
    by_employee = calls_report(user=admin, query=CallsQuery(Period(day, day), group_by="employee"))
    assert {r["key"]: r["calls"] for r in by_employee["rows"]} == {anna.pk: 1}
    # and once rebuilt, the rollup's own rows say so
    rollup_drain()
    assert CallStat.objects.get(span=CallStat.Span.DAY, start=day).employee_id == anna.pk
    assert _totals(admin, day, day) == _live_totals(admin, day, day, monkeypatch)


def test_a_changed_threshold_recounts_at_once_and_the_worker_rebuilds(admin, monkeypatch):
    # given calls of 25 s last week, built with the threshold of 20 s
    day = _today() - timedelta(days=7)
    for _ in range(3):
        make_call(at=local(day.isoformat(), 9), talk=25)
    rollup_rebuild(start=day)
    assert _totals(admin, day, day)["successful"] == 3
    # when the threshold goes up to 40 s
    AnalyticsSettings.objects.update_or_create(pk=1, defaults={"success_threshold_seconds": 40})
    # then the report recounts at once (the day's rows were built with other settings: read live)
    assert _totals(admin, day, day)["successful"] == 0
    # and the worker rebuilds the day with the new threshold
    while rollup_drain():
        pass
    assert CallStat.objects.get(span=CallStat.Span.DAY, start=day).successful == 0
    assert _totals(admin, day, day) == _live_totals(admin, day, day, monkeypatch)


def test_a_deleted_employee_leaves_the_rollup_equal(admin, monkeypatch):
    # given a whole past month of an employee's calls, rolled up by day and month
    gone = UserFactory()
    first = (_today().replace(day=1) - timedelta(days=1)).replace(day=1)
    last = _today().replace(day=1) - timedelta(days=1)
    make_call(at=local(first.isoformat(), 10), employee=gone)
    make_call(at=local(last.isoformat(), 10), employee=admin)
    rollup_rebuild(start=first)
    assert CallStatSpan.objects.filter(span=CallStat.Span.MONTH, start=first).exists()
    # when the employee is deleted (their calls keep no employee)
    gone.delete()
    # then the month's report equals the live one, the deleted one's call under "no employee"
    got = calls_report(user=admin, query=CallsQuery(Period(first, last), group_by="employee"))
    assert {r["key"]: r["calls"] for r in got["rows"]} == {None: 1, admin.pk: 1}
    assert _totals(admin, first, last) == _live_totals(admin, first, last, monkeypatch)


def test_the_worker_builds_the_history_and_each_day_as_it_ends(db):
    # given calls over the last ten days and a rollup never built (an upgrade)
    for i in range(1, 11):
        make_call(at=local((_today() - timedelta(days=i)).isoformat(), 15))
    # when the worker's drain runs until it finds nothing
    passes = 0
    while rollup_drain():
        passes += 1
    # then every past day is built, a few a pass, and today is not (it is read live)
    assert passes >= 10 // DAYS_PER_PASS
    days = set(CallStatSpan.objects.filter(span=CallStat.Span.DAY).values_list("start", flat=True))
    expected = {_today() - timedelta(days=i) for i in range(1, 11)}
    if timezone.localtime(timezone=ZoneInfo(settings.TIME_ZONE)).hour == 0:
        expected.discard(_today() - timedelta(days=1))  # within SETTLE of midnight: yesterday waits
    assert expected <= days
    assert _today() not in days
    assert CallStatCursor.objects.get(pk=1).built_through == _today() - timedelta(days=1) or \
        timezone.localtime(timezone=ZoneInfo(settings.TIME_ZONE)).hour == 0  # within SETTLE of midnight


def test_the_command_rebuilds_and_refuses_bad_dates(db):
    # given a call yesterday
    make_call(at=local((_today() - timedelta(days=1)).isoformat(), 15))
    # when the command rebuilds, then the day is built
    call_command("analytics_rollup", "--rebuild", verbosity=0)
    assert CallStat.objects.filter(span=CallStat.Span.DAY, start=_today() - timedelta(days=1)).exists()
    # and a bad date or a reversed range is refused, naming the option
    with pytest.raises(CommandError, match="--from"):
        call_command("analytics_rollup", "--rebuild", "--from", "2026-13-01")
    with pytest.raises(CommandError, match="--from"):
        call_command("analytics_rollup", "--rebuild", "--from", "2026-02-01", "--to", "2026-01-01")
