"""The chats report from its rollup (okno.analytics.chats_rollup) equals the live computation:
for random questions over a rollup partly built, partly marked; after a late Jivo fact marks a
past day; after a person moves to another department; and the worker builds the history."""

import os
import random
from datetime import date, timedelta

import pytest

from okno.analytics.chats_report import GROUPS, ChatsQuery, Period, chats_accumulate, chats_report
from okno.analytics.chats_rollup import chats_build_day, chats_rebuild, chats_rollup_drain
from okno.analytics.models_rollup import ChatStat, ChatStatMark, ChatStatSpan
from okno.analytics.rollup import today
from okno.analytics.tests.chats_factories import jivo_channel, make_chat
from okno.analytics.tests.factories import local
from okno.analytics.tests.test_chats_jivo import payload, post
from okno.analytics.tests.test_chats_random import START, _company
from okno.core import events
from okno.inbox.drain import inbound_drain
from okno.inbox.models import Conversation
from okno.outbox.models import OutboxMessage
from okno.outbox.tests.factories import make_endpoint
from okno.people.tests.factories import DepartmentFactory, UserFactory

pytestmark = pytest.mark.django_db


def _live(user, query: ChatsQuery) -> dict:
    return chats_accumulate(user=user, query=query, period=query.period, rollup=False)


def _rolled(user, query: ChatsQuery) -> dict:
    return chats_accumulate(user=user, query=query, period=query.period)


def _drain_all() -> None:
    """The worker's passes until it has nothing left (the history first, from the first of the
    first chat's month)."""
    for _ in range(100):
        if not chats_rollup_drain():
            return


def test_random_questions_equal_the_live_answer_over_a_partly_built_rollup():
    # given two months of chats, the rollup built, then a few days marked and a few never built
    rnd = random.Random(16)
    world = _company(rnd)
    out = chats_rebuild(start=START, end=date(2026, 10, 31))
    assert out["days"] == 61 and out["months"] == 2
    for _ in range(4):
        ChatStatMark.objects.create(day=START + timedelta(days=rnd.randrange(60)))
    dropped = START + timedelta(days=rnd.randrange(60))
    ChatStatSpan.objects.filter(span=ChatStat.Span.DAY, start=dropped).delete()
    # when 80 random questions are asked (bench_analytics_check: 1,000)
    for _ in range(int(os.environ.get("OKNO_ROLLUP_COMBINATIONS", 80))):
        start = START + timedelta(days=rnd.randrange(-5, 60))
        end = start + timedelta(days=rnd.choice([0, 1, 6, 30, 45]))
        query = ChatsQuery(Period(start, end), group_by=rnd.choice(GROUPS),
                           channel=rnd.choice([None, None, rnd.choice(world["channels"]).pk]),
                           department=rnd.choice([None, None, rnd.choice(world["departments"]).pk]))
        viewer = rnd.choice(world["viewers"])
        if viewer.is_admin or viewer.role == "head":
            query = ChatsQuery(query.period, query.group_by, channel=query.channel, department=query.department,
                               employee=rnd.choice([None, None, rnd.choice(world["people"]).pk]))
        else:
            query = ChatsQuery(query.period, query.group_by, channel=query.channel)
        # then the rollup's answer is the live one, exactly
        assert _rolled(viewer, query) == {k: v for k, v in _live(viewer, query).items()}, query


def test_whole_months_are_read_from_the_month_sums():
    world = _company(random.Random(3))
    chats_rebuild(start=START, end=date(2026, 10, 31))
    admin = world["viewers"][0]
    query = ChatsQuery(Period(date(2026, 9, 1), date(2026, 10, 31)), group_by="employee")
    assert ChatStatSpan.objects.filter(span=ChatStat.Span.MONTH).count() == 2
    assert _rolled(admin, query) == _live(admin, query)


def test_a_late_jivo_fact_marks_its_past_day_and_the_worker_rebuilds_it(client, admin_user):
    # given a Jivo chat accepted yesterday evening, and yesterday built
    jivo = jivo_channel()
    UserFactory(email="anna@okno.example", first_name="Анна")
    post(client, jivo, payload("ru_chat_accepted_int_ids"))
    inbound_drain()
    day = today() - timedelta(days=1)
    Conversation.objects.update(started_at=local(day.isoformat(), 23, 50))
    conv = Conversation.objects.get()
    chats_build_day(day=day)
    query = ChatsQuery(Period(day, day), group_by="employee")
    assert _rolled(admin_user, query)[conv.operator_id].first[1] == 0  # no reply yet
    # when its transcript and rating arrive later
    post(client, jivo, payload("ru_chat_finished_str_ids"))
    inbound_drain()
    # then the day is marked and read live: the report shows the reply at once
    assert ChatStatMark.objects.filter(day=day).exists()
    assert _rolled(admin_user, query) == _live(admin_user, query)
    assert _rolled(admin_user, query)[conv.operator_id].first == [60_000, 1]
    # and the worker rebuilds it (after the history from the first of the month): the mark is
    # gone and the sums hold the reply
    _drain_all()
    assert not ChatStatMark.objects.filter(day=day).exists()
    assert ChatStat.objects.get(span="day", start=day, operator_id=conv.operator_id).first_response_ms == 60_000
    assert _rolled(admin_user, query) == _live(admin_user, query)


def test_the_department_is_read_through_the_operator_so_a_move_recounts_nothing():
    sales, support = DepartmentFactory(name="Продажи"), DepartmentFactory(name="Поддержка")
    anna = UserFactory(department=sales)
    day = date(2026, 10, 5)
    channel = jivo_channel(department=support)
    for hour in (9, 10, 11):
        make_chat(channel=channel, at=local(day.isoformat(), hour), operator=anna)
    chats_build_day(day=day)
    anna.department = support
    anna.save()
    admin = UserFactory(role="admin")
    query = ChatsQuery(Period(day, day), group_by="department")
    assert _rolled(admin, query) == _live(admin, query)
    assert list(_rolled(admin, query)) == [support.pk]
    # and the worker rebuilds the department spans the move made stale: read again, still equal
    _drain_all()
    assert ChatStat.objects.filter(span="dayd", start=day).get().department_id == support.pk
    assert _rolled(admin, query) == _live(admin, query)


def test_the_worker_builds_the_history_then_each_day_that_ended():
    channel = jivo_channel()
    first = today() - timedelta(days=40)
    for i in range(0, 41, 10):
        make_chat(channel=channel, at=local((first + timedelta(days=i)).isoformat(), 12))
    built = 0
    for _ in range(60):
        built += chats_rollup_drain()
    # every past day from the first of the first chat's month (that month then has a span of its
    # own); today is read live
    month = first.replace(day=1)
    assert built == (today() - month).days
    days = set(ChatStatSpan.objects.filter(span="day").values_list("start", flat=True))
    assert days == {month + timedelta(days=i) for i in range(built)}
    assert ChatStatSpan.objects.filter(span="month", start=month).exists()
    admin = UserFactory(role="admin")
    query = ChatsQuery(Period(first, today()), group_by="channel")
    assert _rolled(admin, query) == _live(admin, query)
    assert _rolled(admin, query)[channel.pk].chats == 5


def test_a_chat_of_today_marks_nothing_and_the_event_reaches_no_webhook():
    # given an endpoint that wants every event
    make_endpoint("http://127.0.0.1:9/hook", events=["*"])
    conv = make_chat(channel=jivo_channel(), at=local(today().isoformat(), 0, 1))
    old = make_chat(channel=jivo_channel(name="Старый"), at=local("2026-10-01", 12))
    queued = OutboxMessage.objects.count()
    # when both change
    for c in (conv, old):
        events.publish("conversation.changed", subject=c, internal=True, data={"conversation_id": c.pk})
    # then only the past day is marked, and no webhook is queued
    assert list(ChatStatMark.objects.values_list("day", flat=True)) == [date(2026, 10, 1)]
    assert OutboxMessage.objects.count() == queued
    # and a day with no chats is built empty: read from the rollup, zero rows
    assert chats_build_day(day=date(2026, 10, 2)) == 0
    assert chats_report(user=UserFactory(role="admin"), query=ChatsQuery(Period(date(2026, 10, 2),
                                                                                  date(2026, 10, 2))))["rows"] == []


def test_an_unfiltered_question_by_day_or_channel_reads_the_channel_spans():
    # given two months of chats and the rollup built
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    world = _company(random.Random(5))
    chats_rebuild(start=START, end=date(2026, 10, 31))
    admin = world["viewers"][0]
    assert ChatStat.objects.filter(span="dayc").exists() and ChatStat.objects.filter(span="monthc").exists()
    for group_by in ("day", "channel"):
        query = ChatsQuery(Period(START, date(2026, 10, 31)), group_by=group_by)
        with CaptureQueriesContext(connection) as ctx:
            rolled = _rolled(admin, query)
        # then the channel spans answer (3 rows a day, not one per department), as the live report
        assert any("'dayc'" in q["sql"] or "'monthc'" in q["sql"] for q in ctx.captured_queries), group_by
        assert rolled == _live(admin, query)
    # a department in the question reads the department spans
    department = ChatsQuery(Period(START, date(2026, 10, 31)), group_by="day", department=world["departments"][0].pk)
    assert _rolled(admin, department) == _live(admin, department)
