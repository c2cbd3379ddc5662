"""The process rollup's year-to-date spans (okno.analytics.process_rollup._build_years): a question
from 1 January reads one span for its whole months, equal to the live report, and a day built
again takes the spans of its month and the later ones out until they are summed again."""

import random
from datetime import date

import pytest

from okno.analytics.models_rollup import ProcessStat, ProcessStatMark, ProcessStatSpan
from okno.analytics.periods import Period
from okno.analytics.process_report import GROUPS, ProcessQuery
from okno.analytics.process_rollup import process_build_day, process_build_month, process_fingerprint, process_rebuild
from okno.analytics.process_rollup_read import _plan, _state
from okno.analytics.tests.test_process_random import _company
from okno.analytics.tests.test_process_rollup import _both

pytestmark = pytest.mark.django_db

YEAR = Period(date(2026, 1, 1), date(2026, 10, 31))


def _years(period: Period = YEAR) -> list[date]:
    return _plan(period, _state(period.start, period.end, "default"), process_fingerprint())["years"]


def _equal(world) -> None:
    for viewer in world["viewers"]:
        for group_by in GROUPS:
            got, want = _both(viewer, ProcessQuery(YEAR, group_by=group_by))
            assert got == want, (viewer, group_by)


def test_a_year_from_january_reads_its_year_to_date_span_and_equals_the_live_report():
    # given two months of a company's work, and the rollup built from 1 January
    world = _company(random.Random(31))
    out = process_rebuild(start=date(2026, 1, 1), end=date(2026, 10, 31))
    assert out["months"] == 10
    assert ProcessStatSpan.objects.filter(span="ytd").count() == 10
    assert ProcessStat.objects.filter(span="ytde", start=date(2026, 10, 1), deals__gt=0).exists()
    # then the year's question reads one span, and answers as the live report does
    assert _years() == [date(2026, 10, 1)]
    _equal(world)
    # a question from February reads months, not the year's span
    assert _years(Period(date(2026, 2, 1), date(2026, 10, 31))) == []

    # when a day of September is marked, the year is read up to August, the rest by day
    ProcessStatMark.objects.create(day=date(2026, 9, 14))
    assert _years() == [date(2026, 8, 1)]
    _equal(world)

    # when that day is built again, September's and October's year spans are out until summed again
    process_build_day(day=date(2026, 9, 14))
    assert not ProcessStatSpan.objects.filter(span="ytd", start__gte=date(2026, 9, 1)).exists()
    assert _years() == [date(2026, 8, 1)]
    _equal(world)
    assert process_build_month(first=date(2026, 9, 1))
    assert ProcessStatSpan.objects.filter(span="ytd", start__gte=date(2026, 9, 1)).count() == 2
    assert _years() == [date(2026, 10, 1)]
    _equal(world)


def test_a_build_committed_between_the_plan_and_the_sums_sends_the_question_live(monkeypatch):
    # given a year built, and a day of September built again while a report reads
    from django.utils import timezone

    from okno.analytics import process_rollup_read

    world = _company(random.Random(37))
    process_rebuild(start=date(2026, 1, 1), end=date(2026, 10, 31))
    viewer, query, now = world["viewers"][0], ProcessQuery(YEAR, group_by="employee"), timezone.now()
    assert process_rollup_read.process_rollup_accumulate(user=viewer, query=query, period=YEAR, now=now) is not None
    real = process_rollup_read._read

    def racing(**kw):
        process_build_day(day=date(2026, 9, 14))  # commits between _state and the sums
        return real(**kw)

    monkeypatch.setattr(process_rollup_read, "_read", racing)
    # then the rollup does not answer (the report is computed live), rather than mix two builds
    assert process_rollup_read.process_rollup_accumulate(user=viewer, query=query, period=YEAR, now=now) is None


def test_the_hand_written_scope_equals_the_orm_path(monkeypatch):
    # given a year built, and each viewer's question by employee with and without a filter
    from django.db.models import Q
    from django.utils import timezone

    from okno.analytics import process_rollup_read

    world = _company(random.Random(41))
    process_rebuild(start=date(2026, 1, 1), end=date(2026, 10, 31))
    now = timezone.now()
    questions = [(viewer, ProcessQuery(YEAR, group_by=group_by, department=department))
                 for viewer in world["viewers"] for group_by in ("employee", "source")
                 for department in (None, world["departments"][0].pk)]

    def answers() -> list:
        return [process_rollup_read.process_rollup_accumulate(user=viewer, query=query, period=YEAR, now=now)
                for viewer, query in questions]

    written = answers()
    # when the scope is compiled by the ORM instead (_where knows no such scope)
    monkeypatch.setattr(process_rollup_read, "_where", lambda scope, query: None)
    # then the answers are the same
    assert answers() == written
    # and the shapes _where knows: everything, a tree, one person, nobody; others go to the ORM
    query = ProcessQuery(YEAR)
    monkeypatch.undo()
    assert process_rollup_read._where(Q(), query) == ("", [])
    assert process_rollup_read._where(Q(department_id__in=[3, 4]), query) == (" AND department_id IN (%s, %s)", [3, 4])
    assert process_rollup_read._where(Q(employee_id=7), query) == (" AND employee_id = %s", [7])
    assert process_rollup_read._where(Q(pk__in=[]), query) == ("", None)
    assert process_rollup_read._where(~Q(employee_id=7), query) is None
