"""The auto-dialer's department settings (API) and the Telphin line: the customer rung first,
the outcome read from the Call Telphin's events made."""

import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from okno.contacts.tests.factories import make_contact
from okno.inbox.tests.factories import make_channel
from okno.people.models import User
from okno.people.tests.factories import DepartmentFactory, UserFactory
from okno.telephony.models import Call, PbxExtension
from okno.telephony.tests.fake_pbx import FakePbx, as_json
from okno.work.dialer import dial_leases_expire, dialer_drain
from okno.work.models import AgentState, DialAttempt, DialerSettings
from okno.work.states import agent_state_set
from okno.work.tests.factories import just_closed, make_item

PAYLOADS = Path(__file__).resolve().parents[2] / "telephony" / "tests" / "payloads"


@pytest.fixture
def centre(db):
    return DepartmentFactory(name="Колл-центр")


@pytest.fixture
def head(centre):
    return UserFactory(department=centre, role=User.Role.HEAD)


@pytest.fixture
def fake():
    server = FakePbx().start()
    yield server
    server.stop()


@pytest.fixture
def telphin(centre, fake):
    channel = make_channel(kind="telphin", name="Телфин", department=centre, settings={
        "client_id": "app-1", "client_secret": "app-secret", "api_url": fake.url,
        "extension_ids": {"101": 4521}, "extension_prefix": "13596"})
    fake.serve("/oauth/token", as_json(200, json.loads((PAYLOADS / "telphin" / "oauth_token.json").read_text())))
    fake.serve("/api/ver1.0/extension/4521/callback/", as_json(201, {"call_api_id": "3-1704092400"}))
    return channel


def _put(api, path, body):
    return api._call("put", path, body)


def test_a_head_turns_the_dialer_on_with_a_line(head, centre, telphin, api_as):
    answer = _put(api_as(head), f"/api/v1/departments/{centre.pk}/dialer",
                              {"enabled": True, "channel_id": telphin.pk, "lines": 5})
    assert answer.status_code == 200, answer.content
    assert answer.json() == {"department_id": centre.pk, "enabled": True, "channel_id": telphin.pk, "lines": 5,
                             "ring_seconds": 30, "max_attempts": 3, "lines_busy": 0}
    assert api_as(head).get(f"/api/v1/departments/{centre.pk}/dialer").json()["enabled"] is True


@pytest.mark.parametrize("body, field", [
    ({"enabled": True}, "channel_id"),
    ({"lines": 0}, "lines"),
    ({"ring_seconds": 500}, "ring_seconds"),
    ({"max_attempts": -1}, "max_attempts"),
    ({"enabled": "yes"}, "enabled"),
    ({"channel_id": 999999}, "channel_id"),
    ({"speed": 3}, "speed"),
])
def test_bad_settings_are_refused_naming_the_field_and_nothing_is_saved(head, centre, api_as, body, field):
    answer = _put(api_as(head), f"/api/v1/departments/{centre.pk}/dialer", body)
    assert answer.status_code == 400
    assert field in [e["field"] for e in answer.json()["errors"]]
    assert not DialerSettings.objects.exists()


def test_a_line_that_cannot_dial_is_refused(head, centre, api_as):
    form = make_channel(kind="form", name="Сайт", department=centre)
    answer = _put(api_as(head), f"/api/v1/departments/{centre.pk}/dialer", {"enabled": True, "channel_id": form.pk})
    assert answer.status_code == 400 and answer.json()["errors"][0]["field"] == "channel_id"


def test_managers_may_not_change_the_dialer(centre, api_as):
    manager = UserFactory(department=centre)
    assert _put(api_as(manager), f"/api/v1/departments/{centre.pk}/dialer", {"lines": 3}).status_code == 403


def _telphin_setup(centre, telphin):
    DialerSettings.objects.create(department=centre, enabled=True, channel=telphin, lines=3, ring_seconds=20)
    user = UserFactory(department=centre)
    PbxExtension.objects.create(channel=telphin, code="101", user=user)
    just_closed(user)
    agent_state_set(user=user, state="idle")
    contact = make_contact(first_name="Ольга", phones=["+7 916 123-45-67"])
    return user, make_item(kind="callback", contact=contact, department=centre)


def test_telphin_rings_the_customer_first_then_the_operator(centre, telphin, fake):
    user, item = _telphin_setup(centre, telphin)
    dialer_drain(wait=True)
    callback = fake.to("/api/ver1.0/extension/4521/callback/")[0]
    assert callback.json() == {"src_num": ["79161234567"], "dst_num": "13596*101"}
    # the outcome is not in Telphin's answer: the attempt stays dialing under its lease
    attempt = DialAttempt.objects.get()
    assert attempt.status == "dialing" and attempt.locked_until > timezone.now()
    assert AgentState.objects.get(user=user).state == "idle"


@pytest.mark.parametrize("answered, status", [(True, "answered"), (False, "no_answer")])
def test_telphin_outcome_comes_from_the_call_its_events_made(centre, telphin, fake, answered, status):
    user, item = _telphin_setup(centre, telphin)
    dialer_drain(wait=True)
    attempt = DialAttempt.objects.get()
    now = timezone.now()
    Call.objects.create(channel=telphin, pbx_call_id="tph-1", direction="out", customer_number="+79161234567",
                        started_at=now, answered_at=now if answered else None,
                        outcome="answered" if answered else "missed")
    DialAttempt.objects.filter(pk=attempt.pk).update(locked_until=now - timedelta(seconds=1))
    dial_leases_expire()
    attempt.refresh_from_db()
    assert attempt.status == status
    assert AgentState.objects.get(user=user).state == ("on_call" if answered else "idle")
