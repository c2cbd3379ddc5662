"""Today's settled chats summed every minute (okno.analytics.chats_rollup.chats_build_today): a
report over today reads them from the rollup and the rest live, equal to the live report before
and after a chat changes; a message of a chat going on now costs no query."""

import random
from datetime import timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from okno.analytics.chats_report import GROUPS, ChatsQuery, Period, chats_accumulate
from okno.analytics.chats_rollup import (
    FINE,
    SLACK,
    chats_build_today,
    chats_fingerprint,
    chats_rollup_drain,
    on_conversation_changed,
)
from okno.analytics.chats_rollup_read import _plan, _state
from okno.analytics.models_rollup import ChatStatMark, ChatStatSpan
from okno.analytics.tests.chats_factories import jivo_channel, make_chat
from okno.core.events import Event
from okno.inbox.models import Conversation
from okno.people.models import User
from okno.people.tests.factories import DepartmentFactory, UserFactory


def _midnight(now):
    return now.astimezone(ZoneInfo(settings.TIME_ZONE)).replace(hour=0, minute=0, second=0, microsecond=0)


def _assert_equal_live(viewers, people) -> int:
    """Every grouping and filter over today, for each viewer: rollup + live rest == live."""
    day = timezone.localdate()
    used = 0
    for user in viewers:
        for group_by in GROUPS:
            for employee in (None, people[0].pk):
                if employee and not (user.is_admin or user.role == User.Role.HEAD):
                    continue
                query = ChatsQuery(Period(day, day), group_by=group_by, employee=employee)
                got = chats_accumulate(user=user, query=query, period=query.period)
                want = chats_accumulate(user=user, query=query, period=query.period, rollup=False)
                assert got == want, (user.username, group_by, employee)
        plan = _plan(Period(day, day), _state(day, day, day, "default"), FINE, chats_fingerprint(),
                     months_allowed=True)
        used += plan["prefix"] is not None
    return used


def test_today_from_its_sums_and_the_rest_live_equals_the_live_report(db):
    # given 120 chats of today: finished long ago, finished just now, going on, started a minute ago
    rnd = random.Random(2017)
    sales = DepartmentFactory(name="Продажи")
    people = [UserFactory(department=sales), UserFactory(department=sales), UserFactory(department=None)]
    viewers = [UserFactory(role=User.Role.ADMIN), UserFactory(role=User.Role.HEAD, department=sales), people[1]]
    channels = [jivo_channel(department=sales, name="Магазин"), jivo_channel(name="Помощь")]
    now = timezone.now()
    for _ in range(120):
        at = max(_midnight(now), now - timedelta(minutes=rnd.choice([1, 5, 12, 25, 40, 90, 300])))
        replies = tuple(rnd.choice([3, 40]) for _ in range(rnd.choice([0, 1, 2])))
        make_chat(channel=rnd.choice(channels), at=at, operator=rnd.choice([*people, None]), replies=replies,
                  rating=rnd.choice(["", "positive", "1"]), offline=not replies and rnd.random() < 0.5,
                  finished_after=rnd.choice([None, 60, 600, 1800]))
    # when the worker builds today's sums
    assert chats_build_today(now=now)
    span = ChatStatSpan.objects.get(span="dayp")
    assert span.through == max(now - SLACK, _midnight(now))
    # then every report over today equals the live one, and reads the sums
    used = _assert_equal_live(viewers, people)
    assert used >= 1
    # when a chat of the sums gets a late rating, through the inbox's event
    summed = Conversation.objects.filter(started_at__lt=span.through, finished_at__lt=span.through).first()
    if summed is not None:
        Conversation.objects.filter(pk=summed.pk).update(rating="negative")
        summed.refresh_from_db()
        on_conversation_changed(Event(name="conversation.changed", subject=summed))
        # then today is marked and read live, still equal
        assert ChatStatMark.objects.filter(day=timezone.localdate()).exists()
        _assert_equal_live(viewers, people)
    # and the worker's next pass builds the sums again: equal once more
    chats_rollup_drain(now=timezone.now())
    assert not ChatStatMark.objects.filter(day=timezone.localdate()).exists()
    _assert_equal_live(viewers, people)


def test_a_message_of_a_chat_going_on_costs_no_query(db, django_assert_num_queries):
    now = timezone.now()
    chat = make_chat(channel=jivo_channel(), at=max(_midnight(now), now - timedelta(minutes=3)), finished_after=None)
    with django_assert_num_queries(0):
        on_conversation_changed(Event(name="conversation.changed", subject=chat))
    # a chat recorded late (it began 20 minutes ago, after today's sums were built) marks today
    assert chats_build_today(now=now)
    late = make_chat(channel=jivo_channel(name="Поздний"), at=now - timedelta(minutes=20), finished_after=60)
    if timezone.localdate(late.started_at) != timezone.localdate(now):
        return  # just after midnight
    on_conversation_changed(Event(name="conversation.changed", subject=late))
    assert ChatStatMark.objects.filter(day=timezone.localdate()).exists()
