"""The /hooks/ entry when something breaks: a dead or aged database connection, an adapter's bug."""

import logging
import time

import pytest
from django.db import connection

from okno.inbox.adapters.form import FormAdapter
from okno.inbox.models import InboundEvent
from okno.inbox.tests.factories import make_channel
from okno.inbox.tests.wsgi_calls import post_form

pytestmark = pytest.mark.django_db(transaction=True)
# A test database in SQLite's memory lives only as long as its connection: closing it under the
# test would lose the database, and Django never closes it (so never replaces it) either.
postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="closes the test database's connection")


@postgres_only
def test_a_connection_closed_under_the_entry_is_replaced_before_the_next_hook():
    # given a hook answered, its connection kept for the next one
    channel = make_channel()
    assert post_form(channel.webhook_path, {"name": "Ольга"}).status == 200
    raw = connection.connection
    # when the driver's connection is closed under Django
    raw.close()
    # then the next hook is stored on a new connection, not failed
    assert post_form(channel.webhook_path, {"name": "Пётр"}).status == 200
    assert connection.connection is not raw and InboundEvent.objects.filter(channel=channel).count() == 2


@postgres_only
def test_a_connection_the_server_ended_while_idle_is_replaced_before_the_next_hook():
    # given a hook answered, its connection kept for the next one
    channel = make_channel()
    assert post_form(channel.webhook_path, {"name": "Ольга"}).status == 200
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    # when the server ends that backend while it is idle (a restart, an administrator, a pooler)
    other = connection.get_new_connection(connection.get_connection_params())
    try:
        other.autocommit = True
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
        deadline = time.monotonic() + 5
        while other.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone():
            assert time.monotonic() < deadline
            time.sleep(0.01)
    finally:
        other.close()
    # then the next hook is stored on a new connection: Django alone would have sent its query
    # into the dead one, answered 500 and replaced it only afterwards
    assert post_form(channel.webhook_path, {"name": "Пётр"}).status == 200
    assert InboundEvent.objects.filter(channel=channel).count() == 2


@postgres_only
def test_a_connection_past_its_age_is_replaced():
    channel = make_channel()
    assert post_form(channel.webhook_path, {"name": "Ольга"}).status == 200
    raw = connection.connection
    # when the connection has lived past CONN_MAX_AGE
    connection.close_at = time.monotonic() - 1
    # then it is closed, and the next hook opens a new one
    assert post_form(channel.webhook_path, {"name": "Пётр"}).status == 200
    assert connection.connection is not raw


def test_an_adapters_exception_is_a_500_without_detail_and_the_next_hook_works(monkeypatch, caplog):
    # given a form adapter with a bug that shows a secret in its message
    channel = make_channel()

    def broken(self, body, content_type):
        raise RuntimeError("bug near the secret s3cr3t")

    monkeypatch.setattr(FormAdapter, "dedup_key", broken)
    # when a site posts
    with caplog.at_level(logging.ERROR, logger="okno.inbox.hooks_wsgi"):
        r = post_form(channel.webhook_path, {"name": "Ольга"})
    # then the sender gets a bare 500, and the traceback goes to the log (without the token)
    assert r.status == 500 and r.body == b'{"detail": "Server error"}'
    assert r.headers["Content-Length"] == str(len(r.body))
    [record] = [rec for rec in caplog.records if rec.name == "okno.inbox.hooks_wsgi"]
    assert record.exc_info[0] is RuntimeError and channel.token not in record.getMessage()
    assert InboundEvent.objects.count() == 0
    # and once the bug is gone the next hook is stored
    monkeypatch.undo()
    assert post_form(channel.webhook_path, {"name": "Ольга"}).status == 200
    assert InboundEvent.objects.count() == 1


def test_a_failed_query_in_a_hook_does_not_spoil_the_connection_for_the_next(monkeypatch):
    # given an adapter whose bug is a query that fails in the database
    channel = make_channel()

    def broken(self, body, content_type):
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM no_such_table")

    monkeypatch.setattr(FormAdapter, "dedup_key", broken)
    assert post_form(channel.webhook_path, {"name": "Ольга"}).status == 500
    # then, the bug gone, the next hook on the same thread is stored
    monkeypatch.undo()
    assert post_form(channel.webhook_path, {"name": "Ольга"}).status == 200
    assert InboundEvent.objects.count() == 1
