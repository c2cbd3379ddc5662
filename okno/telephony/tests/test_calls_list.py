"""The calls list (/telephony/calls/ and GET /api/v1/calls): who sees which calls, the report's
filters, paging, bad input as a 422 naming the field."""

import itertools
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.test import Client

from okno.contacts.models import Tag
from okno.contacts.tests.factories import make_contact
from okno.inbox.tests.factories import make_channel
from okno.people.models import User
from okno.people.tests.factories import DepartmentFactory, UserFactory
from okno.telephony.models import Call

DAY = "2026-11-10"
URL = "/telephony/calls/"
_ids = itertools.count(1)


def local(day: str, hh: int = 12, mm: int = 0) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hh, minute=mm, tzinfo=ZoneInfo(settings.TIME_ZONE))


def make_call(*, at: datetime, direction: str = "in", outcome: str = "answered", talk: int = 60, employee=None,
              department=None, number: str = "+74950000009", contact=None) -> Call:
    """A finished call written directly: answered after 5 s and talked `talk`, or ended after 20 s."""
    answered = outcome == Call.Outcome.ANSWERED
    channel = make_channel(kind="mango", name="АТС") if not Call.objects.exists() else Call.objects.first().channel
    return Call.objects.create(
        channel=channel, pbx_call_id=f"l{next(_ids)}", direction=direction, outcome=outcome, started_at=at,
        answered_at=at + timedelta(seconds=5) if answered else None,
        ended_at=None if outcome == "ongoing" else at + timedelta(seconds=5 + talk if answered else 20),
        wait_seconds=5 if answered else 20, talk_seconds=talk if answered else 0, employee=employee,
        department=department or getattr(employee, "department", None), customer_number=number, contact=contact)


@pytest.fixture
def office(db):
    sales = DepartmentFactory(name="Продажи")
    desk = DepartmentFactory(name="Сектор", parent=sales)
    support = DepartmentFactory(name="Поддержка")
    head = UserFactory(role=User.Role.HEAD, department=sales)
    anna, vera = UserFactory(department=desk), UserFactory(department=support)
    admin = UserFactory(role=User.Role.ADMIN)
    vip = Tag.objects.create(name="VIP")
    client = make_contact(first_name="Ольга", phones=["+79161112233"])
    client.tags.add(vip)
    calls = {
        "anna_answered": make_call(at=local(DAY, 10), employee=anna, talk=60, contact=client),
        "anna_short": make_call(at=local(DAY, 11), employee=anna, talk=5),
        "anna_missed": make_call(at=local(DAY, 12), employee=anna, outcome="missed", number="+74950000001"),
        "vera_missed": make_call(at=local(DAY, 13), employee=vera, outcome="missed", number="+74950000002"),
        "nobody_missed": make_call(at=local(DAY, 14), department=support, outcome="missed", number="+74950000003"),
        "machine": make_call(at=local(DAY, 15), employee=anna, direction="out", outcome="machine"),
        "ongoing": make_call(at=local(DAY, 16), employee=anna, outcome="ongoing"),
        "october": make_call(at=local("2026-10-10", 10), employee=anna),
    }
    # anna calls the first missed number back 5 minutes later
    calls["callback"] = make_call(at=local(DAY, 12, 5), employee=anna, direction="out", number="+74950000001")
    return {"head": head, "anna": anna, "vera": vera, "admin": admin, "vip": vip, "client": client, **calls}


def listed(user, **params) -> set[int]:
    c = Client()
    c.force_login(user)
    response = c.get(URL, {"from": DAY, "to": DAY, **params})
    assert response.status_code == 200, response.content[:500]
    return {call.pk for call in response.context["page"]}


def ids(office, *names) -> set[int]:
    return {office[n].pk for n in names}


def test_an_administrator_a_head_and_a_manager_see_what_the_report_counts(office):
    everything = ids(office, "anna_answered", "anna_short", "anna_missed", "vera_missed", "nobody_missed",
                     "machine", "callback")
    assert listed(office["admin"]) == everything  # not the call in progress, nor October's
    assert listed(office["head"]) == ids(office, "anna_answered", "anna_short", "anna_missed", "machine", "callback")
    assert listed(office["vera"]) == ids(office, "vera_missed")
    # and a filter outside one's own figures lists nothing of others
    assert listed(office["vera"], employee=office["anna"].pk) == set()


def test_the_outcomes_as_the_report_counts_them(office):
    admin = office["admin"]
    assert listed(admin, outcome="answered") == ids(office, "anna_answered", "anna_short", "callback")
    assert listed(admin, outcome="successful") == ids(office, "anna_answered", "callback")
    assert listed(admin, outcome="missed") == ids(office, "anna_missed", "vera_missed", "nobody_missed")
    assert listed(admin, outcome="called_back") == ids(office, "anna_missed")
    assert listed(admin, outcome="missed_not_called_back") == ids(office, "vera_missed", "nobody_missed")
    assert listed(admin, outcome="machine") == ids(office, "machine")
    # repeated: all of them hold
    assert listed(admin, outcome=["missed", "missed_not_called_back"]) == ids(office, "vera_missed", "nobody_missed")


def test_filters_by_employee_none_department_client_and_tag(office):
    admin = office["admin"]
    assert listed(admin, employee="none") == ids(office, "nobody_missed")
    assert listed(admin, department=office["vera"].department_id, direction="in") == ids(
        office, "vera_missed", "nobody_missed")
    assert listed(admin, client=office["client"].pk) == ids(office, "anna_answered")
    assert listed(admin, tag=office["vip"].pk) == ids(office, "anna_answered")


def test_each_call_links_to_its_card_and_the_list_pages(office):
    c = Client()
    c.force_login(office["admin"])
    for i in range(60):
        make_call(at=local(DAY, 9) + timedelta(seconds=i), employee=office["anna"])
    response = c.get(URL, {"from": DAY, "to": DAY})
    assert response.context["page"].paginator.count == 67
    assert len(response.context["page"]) == 50
    assert f'/contacts/{office["client"].pk}/' in response.content.decode()
    second = c.get(URL, {"from": DAY, "to": DAY, "page": 2})
    assert len(second.context["page"]) == 17


@pytest.mark.parametrize(("params", "field"), [
    ({"outcome": "sideways"}, "outcome"), ({"tag": "999999"}, "tag"), ({"tag": "none"}, "tag"),
    ({"employee": "x"}, "employee"), ({"from": "2026-11-31"}, "from"), ({"from": DAY, "to": "2026-11-01"}, "from"),
    ({"direction": "up"}, "direction"), ({"colour": "red"}, "colour"), ({"client": "-1"}, "client"),
])
def test_bad_filters_are_refused_naming_the_field(office, api, params, field):
    # the page says which field
    c = Client()
    c.force_login(office["admin"])
    page = c.get(URL, params)
    assert page.status_code == 422
    assert field in page.context["error"]
    # and the API answers a 422 naming it
    response = api.get("/api/v1/calls", **params)
    assert response.status_code == 422, response.content
    assert response.json()["errors"][0]["field"] == field


def test_the_api_takes_the_same_filters(office, api):
    body = api.get("/api/v1/calls", **{"from": DAY, "to": DAY, "outcome": "missed_not_called_back"}).json()
    # the administrator sees every card: the two missed calls nobody called back
    assert {c["id"] for c in body} == ids(office, "vera_missed", "nobody_missed")
    body = api.get("/api/v1/calls", **{"from": DAY, "to": DAY, "employee": office["anna"].pk,
                                       "outcome": "answered"}).json()
    assert {c["id"] for c in body} == ids(office, "anna_answered", "anna_short", "callback")
    # a moment still reads as before: `to` excluded, calls in progress listed
    body = api.get("/api/v1/calls", **{"from": local(DAY, 15).isoformat(), "to": local(DAY, 17).isoformat()}).json()
    assert {c["id"] for c in body} == ids(office, "machine", "ongoing")
