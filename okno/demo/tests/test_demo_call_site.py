"""`manage.py demo_call` finds the running demo whatever its port (OKNO_VAR_DIR/demo.json)."""

import json
import os

import pytest
from django.core.management import CommandError, call_command

from okno.inbox.drain import inbound_drain
from okno.people.tests.factories import UserFactory
from okno.telephony.models import Call


def test_demo_call_rings_the_site_demo_sh_announced_on_another_port(live_server, settings, tmp_path, capsys):
    # given a demo running on a non-default port, announced in its var directory, and a SITE_URL
    # that points elsewhere (the default port, where nothing listens)
    settings.VAR_DIR = tmp_path
    settings.SITE_URL = "http://127.0.0.1:9"
    (tmp_path / "demo.json").write_text(json.dumps(
        {"site_url": live_server.url, "push_url": live_server.url + "/push/stream", "pid": os.getpid()}))
    UserFactory(username="anna")

    # when
    call_command("demo_call", "anna", "--number", "79161234567", "--ring-seconds", "0")
    inbound_drain()

    # then the running site took both webhooks, and the command says where it rang
    call = Call.objects.get()
    assert (call.outcome, call.customer_number) == ("missed", "+79161234567")
    assert live_server.url in capsys.readouterr().out


def test_a_stale_announcement_is_ignored_and_the_error_says_where_it_looked(db, settings, tmp_path):
    # given a demo.json left by a demo killed with SIGKILL (its script's pid is gone)
    settings.VAR_DIR = tmp_path
    settings.SITE_URL = "http://127.0.0.1:9"
    (tmp_path / "demo.json").write_text(json.dumps({"site_url": "http://127.0.0.1:8", "pid": 2 ** 22 + 7}))
    UserFactory(username="anna")

    # when / then it falls back to SITE_URL and names it
    with pytest.raises(CommandError, match=r"127\.0\.0\.1:9 \(from SITE_URL\).*OKNO_VAR_DIR"):
        call_command("demo_call", "anna", "--ring-seconds", "0")


def test_an_explicit_site_wins(live_server, settings, tmp_path):
    # given no announcement and a wrong SITE_URL
    settings.VAR_DIR = tmp_path
    settings.SITE_URL = "http://127.0.0.1:9"
    UserFactory(username="anna")

    # when
    call_command("demo_call", "anna", "--ring-seconds", "0", "--site", live_server.url + "/")

    # then
    assert Call.objects.count() == 0 and inbound_drain() >= 0
    inbound_drain()
    assert Call.objects.count() == 1


def test_another_database_than_the_demos_is_named_not_a_traceback(db, monkeypatch):
    # given demo_call run without the demo's OKNO_VAR_DIR: a fresh SQLite file without tables
    from django.db import DatabaseError

    from okno.people.models import User

    def no_tables(*args, **kwargs):
        raise DatabaseError("no such table: people_user")

    monkeypatch.setattr(User.objects, "filter", no_tables)

    # when / then
    with pytest.raises(CommandError, match="OKNO_VAR_DIR and DATABASE_URL"):
        call_command("demo_call", "admin", "--ring-seconds", "0")
