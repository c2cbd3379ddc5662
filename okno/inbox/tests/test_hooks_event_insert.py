"""The hook's own INSERT (views_hooks._event_insert): every column written as the ORM would, and
on PostgreSQL one prepared statement per connection instead of a parse and plan per hook."""

import pytest
from django.db import connection
from django.test import override_settings

from okno.inbox.models import InboundEvent
from okno.inbox.tests.factories import make_channel
from okno.inbox.views_hooks import EVENT_COLUMNS


def test_the_insert_writes_every_column_a_new_event_has():
    # given the model's columns, less those a new event leaves empty
    columns = {f.column for f in InboundEvent._meta.concrete_fields if not f.primary_key}
    # then the hook's INSERT names all the others
    assert columns - set(EVENT_COLUMNS) == {"locked_until", "processed_at"}
    assert set(EVENT_COLUMNS) <= columns


def test_a_stored_event_reads_back_as_the_orm_would_have_written_it(db, client):
    # given a form channel
    channel = make_channel()
    # when a form is posted with a header worth keeping and one that is not
    r = client.post(channel.webhook_path, data="name=%D0%9F%D1%91%D1%82%D1%80&phone=89161234567",
                    content_type="application/x-www-form-urlencoded; charset=utf-8",
                    headers={"User-Agent": "Tilda.cc", "X-Request-Id": "r-1", "Cookie": "a=b", "Authorization": "x"})
    # then the row has the body, headers, types and times as the ORM reads them
    assert r.status_code == 200
    event = InboundEvent.objects.get(channel=channel)
    assert bytes(event.body) == b"name=%D0%9F%D1%91%D1%82%D1%80&phone=89161234567"
    assert event.headers == {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
                             "User-Agent": "Tilda.cc", "X-Request-Id": "r-1"}
    assert event.content_type == "application/x-www-form-urlencoded; charset=utf-8"
    assert event.status == InboundEvent.Status.RECEIVED and event.attempts == 0 and event.error == ""
    assert event.dedup_key.startswith("sha256:") and event.locked_until is None and event.processed_at is None
    assert event.received_at == event.run_after and event.received_at.tzinfo is not None


@pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's")
@pytest.mark.parametrize("prepared", [True, False])
def test_the_insert_is_prepared_once_per_connection_unless_turned_off(db, client, prepared):
    # given a form channel, and what this connection already holds prepared (earlier tests)
    channel = make_channel()

    def held() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
                           ["INSERT INTO inbox_inboundevent%"])
            return cursor.fetchone()[0]

    before = held()
    # when three forms are posted on this connection
    with override_settings(OKNO_HOOK_PREPARED=prepared):
        for n in range(3):
            assert client.post(channel.webhook_path, data={"name": f"Пётр {n}"}).status_code == 200
    # then the server holds one prepared INSERT (none added when turned off), and all three rows
    assert held() == (1 if prepared else before)
    assert InboundEvent.objects.filter(channel=channel).count() == 3
