"""The chats report read off what the Jivo webhooks really store: recorded payloads through
/hooks/jivo/<token>/ and the drain, then the report (no hand-made conversations)."""

import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings

from okno.analytics.chats_report import ChatsQuery, Period, chats_query_parse, chats_report
from okno.inbox.drain import inbound_drain
from okno.inbox.models import Conversation
from okno.inbox.tests.factories import make_channel
from okno.people.tests.factories import UserFactory

PAYLOADS = Path(__file__).resolve().parents[2] / "inbox" / "tests" / "payloads" / "jivo"
# 1732291200 is 22 November 2024, 19:00 in Moscow.
PERIOD = {"from": "2024-11-22", "to": "2024-11-22", "group_by": "employee"}


def payload(name: str) -> dict:
    return json.loads((PAYLOADS / f"{name}.json").read_text())


def post(client, channel, body):
    return client.post(channel.webhook_path, data=json.dumps(body, ensure_ascii=False),
                       content_type="application/json")


@pytest.fixture
def jivo(db):
    return make_channel(kind="jivo", name="Jivo")


def test_an_accepted_rated_chat_and_its_response_times(jivo, client, admin_user):
    # given Anna is the operator Jivo names by e-mail, and a chat accepted then finished
    anna = UserFactory(email="anna@okno.example", first_name="Анна")
    post(client, jivo, payload("ru_chat_accepted_int_ids"))
    post(client, jivo, payload("ru_chat_finished_str_ids"))
    inbound_drain()
    # when the report is read for the day the chat began: when Jivo reported it accepted (its
    # transcript's own times come later, and the conversation keeps its first start)
    day = Conversation.objects.get().started_at.astimezone(ZoneInfo(settings.TIME_ZONE)).date().isoformat()
    report = chats_report(user=admin_user, query=chats_query_parse({**PERIOD, "from": day, "to": day}))
    # then it is Anna's accepted chat, answered in 60 s, rated positive
    (row,) = report["rows"]
    assert row["key"] == anna.pk
    assert (row["chats"], row["accepted"], row["missed"], row["rating_positive"]) == (1, 1, 0, 1)
    assert (row["first_response_seconds_avg"], row["response_seconds_avg"]) == (60.0, 60.0)


def test_a_blacklisted_chat_is_spam_and_an_offline_message_a_missed_one(jivo, client, admin_user):
    # given Jivo reports a chat of a blacklisted visitor, and an offline message
    body = payload("ru_chat_finished_str_ids")
    body["chat"]["blacklisted"] = True
    post(client, jivo, body)
    post(client, jivo, payload("offline_message"))
    inbound_drain()
    assert Conversation.objects.filter(spam=True).count() == 1
    days = [c.started_at.astimezone(ZoneInfo(settings.TIME_ZONE)).date() for c in Conversation.objects.all()]
    # when the report covers both chats' days
    report = chats_report(user=admin_user, query=ChatsQuery(Period(min(days), max(days))))
    # then the spam is counted apart, and the offline message is a missed chat of that kind
    totals = report["totals"]
    assert (totals["spam"], totals["chats"], totals["missed"], totals["missed_offline"]) == (1, 1, 1, 1)
