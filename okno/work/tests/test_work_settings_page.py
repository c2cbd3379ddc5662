"""A department's work settings page (issue 18): the queue's rules as a form for administrators
and the department's head, saved through the API's service, refusals beside their inputs."""

import pytest
from django.test import Client
from django.utils import translation

from okno.people.models import User
from okno.people.tests.factories import DepartmentFactory, UserFactory
from okno.work.models import DEFAULT_PRIORITIES, DepartmentWorkSettings

pytestmark = pytest.mark.django_db


@pytest.fixture
def sales():
    return DepartmentFactory(name="Продажи")


def _as(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _form(**changes) -> dict:
    """The form as a browser posts it, defaults filled in (a checkbox left off is absent)."""
    data = {f"priority_{kind}": rank for kind, rank in DEFAULT_PRIORITIES.items()}
    data.update(daily_capacity=40, max_break_minutes=15, dormant_after_days=90, retry_minutes=60,
                wrap_up_seconds=30)
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_the_head_sees_every_setting_labelled_and_explained(sales):
    # given
    head = UserFactory(role="head", department=sales)
    DepartmentWorkSettings.objects.create(department=sales, daily_capacity=33, priorities={"new_lead": 1})
    # when
    with translation.override("en"):
        page = _as(head).get(f"/work/settings/{sales.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    html = page.content.decode()
    # then: one rank input per kind with its label, the numbers and the switch, with help texts
    assert page.status_code == 200
    for kind in DEFAULT_PRIORITIES:
        assert f'name="priority_{kind}"' in html
    assert 'name="priority_new_lead" value="1"' in html and 'name="priority_callback" value="1"' in html
    assert 'name="daily_capacity" value="33"' in html and 'name="wrap_up_seconds" value="30"' in html
    for name in ("max_break_minutes", "dormant_after_days", "retry_minutes", "next_only"):
        assert f'name="{name}"' in html
    assert ">callback</label>" in html and ">payment control</label>" in html
    assert "Rank in the queue, 1 first" in html and "An item closed with “no answer” comes back" in html
    assert "Managers take queue items only by Next" in html


def test_the_page_speaks_russian_by_default(sales):
    head = UserFactory(role="head", department=sales)
    html = _as(head).get(f"/work/settings/{sales.pk}/").content.decode()
    # the kinds' labels as the queue names them (the page's own strings: ru once merged, see the .po)
    assert ">перезвонить</label>" in html and ">контроль оплаты</label>" in html


def test_saving_goes_through_the_service_and_the_api_reads_it_back(sales, api_as):
    # given
    head = UserFactory(role="head", department=sales)
    # when
    answer = _as(head).post(f"/work/settings/{sales.pk}/", _form(priority_new_lead=1, priority_callback=2,
                                                                 daily_capacity=25, wrap_up_seconds=10,
                                                                 next_only="on"))
    # then
    assert answer.status_code == 302 and answer["Location"] == f"/work/settings/{sales.pk}/"
    row = DepartmentWorkSettings.objects.get(department=sales)
    assert (row.rank()["new_lead"], row.rank()["callback"], row.daily_capacity, row.wrap_up_seconds,
            row.next_only) == (1, 2, 25, 10, True)
    body = api_as(head).get(f"/api/v1/departments/{sales.pk}/work-settings").json()
    assert body["next_only"] is True and body["daily_capacity"] == 25
    # and a checkbox left off turns the switch off again
    _as(head).post(f"/work/settings/{sales.pk}/", _form())
    assert DepartmentWorkSettings.objects.get(department=sales).next_only is False


def test_a_refusal_shows_beside_its_field_translated_and_nothing_is_saved(sales):
    # given
    head = UserFactory(role="head", department=sales)
    DepartmentWorkSettings.objects.create(department=sales, daily_capacity=33)
    # when
    with translation.override("en"):
        answer = _as(head).post(f"/work/settings/{sales.pk}/", _form(daily_capacity=5000, priority_task=0),
                                HTTP_ACCEPT_LANGUAGE="en")
    html = answer.content.decode()
    # then: 400, both reasons (through reason_text) beside their inputs
    assert answer.status_code == 400
    assert "must be a whole number from 0 to 1000" in html
    task = html[html.index('name="priority_task"'):]
    assert task.index("must be a whole number from 1 to 100") < task.index('name="priority_follow_up"')
    capacity = html[html.index('name="daily_capacity"'):]
    assert capacity.index("field-error") < capacity.index('name="max_break_minutes"')
    assert DepartmentWorkSettings.objects.get(department=sales).daily_capacity == 33


def test_managers_and_other_heads_403_an_unknown_department_404_an_administrator_may(sales, admin_user):
    manager = UserFactory(department=sales)
    other_head = UserFactory(role="head", department=DepartmentFactory())
    assert _as(manager).get(f"/work/settings/{sales.pk}/").status_code == 403
    assert _as(manager).post(f"/work/settings/{sales.pk}/", _form(daily_capacity=1)).status_code == 403
    assert _as(other_head).get(f"/work/settings/{sales.pk}/").status_code == 403
    assert _as(admin_user).get("/work/settings/999999/").status_code == 404
    assert not DepartmentWorkSettings.objects.filter(department=sales).exists()
    assert _as(admin_user).post(f"/work/settings/{sales.pk}/", _form(daily_capacity=1)).status_code == 302
    assert DepartmentWorkSettings.objects.get(department=sales).daily_capacity == 1


def test_the_heads_queue_page_links_to_the_settings(sales):
    head = UserFactory(role="head", department=sales)
    html = _as(head).get("/work/queue/").content.decode()
    assert f'href="/work/settings/{sales.pk}/"' in html
