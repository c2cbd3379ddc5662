"""The process report from its rollup (okno.analytics.process_rollup) equals the live computation:
for random questions over a rollup built at one moment, after deals, leads and callbacks settled
since (read live by their day's build moment), a closed deal reopened (its day marked), a marked
day and a day never built; and the events mark what they should."""

import os
import random
from datetime import date, timedelta

import pytest
from django.utils import timezone

from okno.analytics.models_rollup import ProcessStat, ProcessStatMark, ProcessStatRowMark, ProcessStatSpan
from okno.analytics.periods import Period
from okno.analytics.process_report import GROUPS, ProcessQuery, process_accumulate
from okno.analytics.process_rollup import on_changed, process_rebuild, process_rollup_drain
from okno.analytics.tests.test_process_random import NOW, START, _company
from okno.core.events import Event
from okno.deals.models import Deal, Lead
from okno.work.models import WorkItem

pytestmark = pytest.mark.django_db


def _both(user, query: ProcessQuery) -> tuple[dict, dict]:
    got = process_accumulate(user=user, query=query, period=query.period, now=NOW)
    want = process_accumulate(user=user, query=query, period=query.period, now=NOW, rollup=False)
    return got, want


def test_random_questions_equal_the_live_answer():
    # given two months of deals, leads, requests and callbacks, closed leads with their closing time
    rnd = random.Random(1616)
    world = _company(rnd)
    for lead in Lead.objects.exclude(status__in=Lead.OPEN):
        Lead.objects.filter(pk=lead.pk).update(closed_at=lead.created_at + timedelta(hours=1))
    # when the rollup is built, then rows settle and change after it
    out = process_rebuild(start=START, end=date(2026, 10, 31))
    assert out["days"] == 61 and out["months"] == 2
    assert ProcessStat.objects.filter(deals__gt=0).exists() and ProcessStat.objects.filter(leads__gt=0).exists()
    later = timezone.now() + timedelta(seconds=1)
    WorkItem.objects.filter(kind="callback", closed_at=None).update(status="done", closed_at=later)
    Lead.objects.filter(status__in=Lead.OPEN).update(status=Lead.Status.LOST, closed_at=later)
    reopened = Deal.objects.exclude(closed_at=None).first()
    Deal.objects.filter(pk=reopened.pk).update(closed_at=None)
    on_changed(Event(name="deal.stage_changed", subject=reopened, data={"from_stage_id": reopened.stage_id}))
    ProcessStatMark.objects.create(day=START + timedelta(days=rnd.randrange(60)))
    ProcessStatSpan.objects.filter(span="day", start=START + timedelta(days=rnd.randrange(60))).delete()
    # then random questions answer as the live report does, exactly
    for _ in range(int(os.environ.get("OKNO_ROLLUP_COMBINATIONS", 60))):
        start = START + timedelta(days=rnd.randrange(-5, 60))
        end = start + timedelta(days=rnd.choice([0, 1, 6, 30, 45]))
        viewer = rnd.choice(world["viewers"])
        manager = not (viewer.is_admin or viewer.role == "head")
        query = ProcessQuery(Period(start, end), group_by=rnd.choice(GROUPS),
                             department=None if manager else rnd.choice([None, None, *world["departments"]]),
                             employee=None if manager else rnd.choice([None, None, rnd.choice(world["people"]).pk]))
        if query.department is not None:
            query = ProcessQuery(query.period, query.group_by, department=query.department.pk,
                                 employee=query.employee)
        got, want = _both(viewer, query)
        assert got == want, query


def test_a_reopened_deal_marks_its_day_and_the_worker_rebuilds_it():
    world = _company(random.Random(7))
    process_rebuild(start=START)  # up to yesterday: the worker then has only the marks to build
    deal = Deal.objects.exclude(closed_at=None).order_by("pk").first()
    day = timezone.localdate(deal.created_at)
    on_changed(Event(name="deal.stage_changed", subject=deal, data={"from_stage_id": deal.stage_id}))
    assert ProcessStatMark.objects.filter(day=day).exists()
    # an open deal older than AGE is held as it stood at the build: its move marks its day
    old = Deal.objects.filter(closed_at=None).order_by("pk").first()
    on_changed(Event(name="deal.stage_changed", subject=old, data={"from_stage_id": old.stage_id}))
    assert ProcessStatMark.objects.filter(day=timezone.localdate(old.created_at)).exists()
    # a young open deal moving on marks no day: it marks its row (its facts are computed again)
    from okno.analytics.tests.process_factories import deal_path

    young = deal_path(pipeline=old.pipeline, at=timezone.now() - timedelta(hours=2))
    marks = ProcessStatMark.objects.count()
    on_changed(Event(name="deal.stage_changed", subject=young, data={"from_stage_id": young.stage_id}))
    assert ProcessStatMark.objects.count() == marks
    assert ProcessStatRowMark.objects.filter(part="deals", row_id=young.pk).exists()
    for _ in range(3):
        process_rollup_drain()
    assert not ProcessStatMark.objects.exists()
    admin = world["viewers"][0]
    query = ProcessQuery(Period(date(2026, 9, 1), date(2026, 10, 31)), group_by="employee")
    got, want = _both(admin, query)
    assert got == want


def test_a_day_built_before_its_deals_were_old_is_built_again_once_they_are():
    from okno.analytics.process_rollup import AGE, process_build_day, ripe_at
    from okno.analytics.tests.process_factories import deal_path, make_lead
    from okno.contacts.tests.factories import make_contact
    from okno.deals.lead_services import lead_reassign
    from okno.deals.tests.factories import PipelineFactory

    world = _company(random.Random(3))
    day = date(2026, 10, 10)
    pipeline = PipelineFactory(name="Доставка")
    open_deal = deal_path(pipeline=pipeline, at=local_noon(day), moves=[(300, 1)], source="Курьер")
    open_lead = make_lead(contact=make_contact(first_name="Лид"), at=local_noon(day), source="Курьер")
    process_rebuild(start=START)
    # built the night the day ended: its open deal is young, read live
    early = ripe_at(day) - AGE + timedelta(minutes=5)
    process_build_day(day=day, now=early)
    admin = world["viewers"][0]
    query = ProcessQuery(Period(day, day), group_by="source")
    got, want = _both(admin, query)
    assert got == want and got["Курьер"]["deals"] == 1 and got["Курьер"]["leads"] == 1
    assert not ProcessStat.objects.filter(span="day", start=day, source="Курьер").exists()
    # once ripe, the worker builds it again and holds the open deal and lead
    process_rollup_drain(now=ripe_at(day) + timedelta(minutes=1))
    assert ProcessStat.objects.filter(span="day", start=day, source="Курьер", deals=1).exists()
    assert ProcessStat.objects.filter(span="day", start=day, source="Курьер", leads=1).exists()
    assert ProcessStatSpan.objects.get(span="day", start=day).built_at >= ripe_at(day)
    got, want = _both(admin, query)
    assert got == want
    # a later move of the held open deal marks its day; read live until rebuilt, still equal
    on_changed(Event(name="deal.stage_changed", subject=open_deal, data={"from_stage_id": open_deal.stage_id}))
    assert ProcessStatMark.objects.filter(day=day).exists()
    got, want = _both(admin, query)
    assert got == want
    # and so does a reassignment of the held open lead, through the leads' own service
    ProcessStatMark.objects.all().delete()
    process_rollup_drain(now=ripe_at(day) + timedelta(minutes=2))
    lead_reassign(actor=admin, leads=[open_lead.pk], assignee=world["people"][3])
    assert ProcessStatMark.objects.filter(day=day).exists()
    got, want = _both(admin, ProcessQuery(Period(day, day), group_by="employee"))
    assert got == want and got[world["people"][3].pk]["leads"] == 1


def local_noon(day: date):
    from okno.analytics.tests.factories import local

    return local(day.isoformat(), 12, 0)


def test_todays_sums_and_the_live_rest_equal_the_live_report():
    from zoneinfo import ZoneInfo

    from django.conf import settings

    from okno.analytics.process_rollup import process_build_day
    from okno.analytics.tests.chats_factories import jivo_channel, make_chat
    from okno.analytics.tests.process_factories import deal_path, make_callback
    from okno.deals.tests.factories import PipelineFactory

    now = timezone.now()
    midnight = now.astimezone(ZoneInfo(settings.TIME_ZONE)).replace(hour=0, minute=0, second=0, microsecond=0)
    rnd = random.Random(5)
    world = _company(rnd)
    pipeline = PipelineFactory(name="Сегодня")
    for minutes in (300, 120, 45, 20, 5):
        at = max(midnight, now - timedelta(minutes=minutes))
        deal_path(pipeline=pipeline, at=at, moves=[(60, 1), (120, 3)] if minutes > 30 else [(60, 1)],
                  responsible=world["people"][0], source="Курьер")
        make_callback(at=at, closed_minutes=10 if minutes > 30 else None, assignee=world["people"][1])
        make_chat(channel=jivo_channel(name=f"Чат {minutes}"), at=at, operator=world["people"][2])
    day = timezone.localdate()
    process_build_day(day=day, now=timezone.now(), span=ProcessStat.Span.TODAY)
    admin = world["viewers"][0]

    def check():
        for group_by in GROUPS:
            got, want = _both(admin, ProcessQuery(Period(day, day), group_by=group_by))
            assert got == want, group_by

    check()
    # a callback closed since, with no event: read live by the sums' moment
    WorkItem.objects.filter(kind="callback", closed_at=None).update(status="done", closed_at=timezone.now())
    check()
    # a closed deal of today reopened: its event marks today
    closed = Deal.objects.filter(pipeline=pipeline).exclude(closed_at=None).first()
    if closed is not None and closed.created_at < ProcessStatSpan.objects.get(span="dayp").built_at:
        Deal.objects.filter(pk=closed.pk).update(closed_at=None)
        on_changed(Event(name="deal.stage_changed", subject=closed, data={"from_stage_id": closed.stage_id}))
        assert ProcessStatMark.objects.filter(day=day).exists()
        check()


def test_a_missed_deadline_of_a_lead_the_rollup_holds_marks_its_day():
    from okno.contacts.tests.factories import make_contact
    from okno.deals.services import lead_create
    from okno.robots.drains import deadlines_drain
    from okno.robots.models import Deadline
    from okno.robots.tests.factories import fall_due, make_robot

    # given an open lead older than AGE (held by its day's span) with a robots' deadline
    make_robot(for_leads=True, kind="deadline", within="PT15M", time="wall")
    lead = lead_create(contact=make_contact())
    created = timezone.now() - timedelta(days=3)
    Lead.objects.filter(pk=lead.pk).update(created_at=created)
    fall_due()
    # when the robots find it missed
    deadlines_drain()
    # then its day is marked: its `late` figure changed
    assert Deadline.objects.get(lead=lead).status == Deadline.Status.MISSED
    assert ProcessStatMark.objects.filter(day=timezone.localdate(created)).exists()


def test_a_row_that_closes_while_its_day_is_built_counts_once(monkeypatch):
    from okno.analytics import process_rollup
    from okno.analytics.process_rollup import process_build_day
    from okno.analytics.tests.process_factories import deal_path
    from okno.deals.tests.factories import PipelineFactory

    # given a young open order of today
    world = _company(random.Random(11))
    now = timezone.now()
    pipeline = PipelineFactory(name="Гонка")
    deal = deal_path(pipeline=pipeline, at=now - timedelta(hours=1), moves=[(60, 1)], source="Гонка")
    real = process_rollup.pending

    def closing_meanwhile(at, lo, hi):
        # when it closes just after the build listed it as left out
        found = real(at, lo, hi)
        Deal.objects.filter(pk=deal.pk).update(closed_at=at - timedelta(seconds=1))
        return found

    monkeypatch.setattr(process_rollup, "pending", closing_meanwhile)
    process_build_day(day=timezone.localdate(), now=now, span=ProcessStat.Span.TODAY)
    # then it counts once: read live by id, not also in today's sums
    day = timezone.localdate()
    got, want = _both(world["viewers"][0], ProcessQuery(Period(day, day), group_by="source"))
    assert got == want and got["Гонка"]["deals"] == 1


def test_a_robot_reassigning_a_lead_the_rollup_holds_marks_its_day():
    from okno.contacts.tests.factories import make_contact
    from okno.deals.services import lead_create
    from okno.people.tests.factories import UserFactory
    from okno.robots.drains import robot_runs_drain
    from okno.robots.tests.factories import make_robot, runs_due

    # given a lead robot that gives new leads to a department, and a lead older than AGE
    taker = UserFactory(at_work=True)
    make_robot(for_leads=True, kind="action", trigger={"on": "enter"},
               action={"type": "change_responsible", "department_id": taker.department_id})
    lead = lead_create(contact=make_contact())
    created = timezone.now() - timedelta(days=3)
    Lead.objects.filter(pk=lead.pk).update(created_at=created)
    # when the robot reassigns it
    runs_due()
    robot_runs_drain()
    # then its day is marked: its employee changed
    assert Lead.objects.get(pk=lead.pk).assignee_id == taker.pk
    assert ProcessStatMark.objects.filter(day=timezone.localdate(created)).exists()
