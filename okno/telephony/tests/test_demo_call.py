"""`manage.py demo_call`: a pretend customer rings an employee through the running site."""

import pytest
from django.core.management import CommandError, call_command

from okno.inbox.drain import inbound_drain
from okno.people.tests.factories import UserFactory
from okno.push.models import Push
from okno.telephony.calls import callbacks_drain
from okno.telephony.models import Call


def test_demo_call_rings_the_employee_through_the_site(live_server, settings, capsys):
    settings.SITE_URL = live_server.url
    settings.OKNO_CALLBACK_GRACE_SECONDS = 0
    manager = UserFactory(username="anna")
    call_command("demo_call", "anna", "--number", "79161234567", "--ring-seconds", "0")
    inbound_drain()
    callbacks_drain()
    pop = Push.objects.get(kind="screen_pop", user=manager)
    assert pop.payload["number"] == "+7 916 123-45-67" and pop.payload["new_customer"] is True
    call = Call.objects.get()
    assert (call.outcome, call.employee, call.callback is not None) == ("missed", manager, True)
    assert "Ringing" in capsys.readouterr().out


def test_demo_call_says_what_is_wrong(db, settings):
    with pytest.raises(CommandError, match="No active user"):
        call_command("demo_call", "nobody")
    UserFactory(username="anna")
    settings.SITE_URL = "http://127.0.0.1:9"
    with pytest.raises(CommandError, match="make demo"):
        call_command("demo_call", "anna", "--ring-seconds", "0")
