"""GET /api/v1/analytics/process: orders, pauses, leads, unanswered requests and callbacks; the
settings of what counts as unanswered; who sees what; bad input."""

import json

import pytest
from django.test import Client
from django.utils import translation

from okno.analytics.process_report import process_query_parse, process_report
from okno.analytics.services import analytics_settings_update
from okno.analytics.tests.chats_factories import jivo_channel, make_chat
from okno.analytics.tests.factories import local
from okno.analytics.tests.process_factories import deal_path, make_callback, make_lead
from okno.contacts.tests.factories import make_contact
from okno.deals.models import Lead
from okno.deals.tests.factories import PipelineFactory
from okno.people.models import ApiToken, User
from okno.people.tests.factories import DepartmentFactory, UserFactory

URL = "/api/v1/analytics/process"
NOV = {"from": "2026-11-01", "to": "2026-11-30"}
LATER = local("2026-12-02")  # when open callbacks are judged


@pytest.fixture
def shop(db):
    """A store: orders through New -> Pause -> Confirmed -> Done / Cancelled, leads, chats, callbacks."""
    sales = DepartmentFactory(name="Продажи")
    desk = DepartmentFactory(name="Сектор", parent=sales)
    head = UserFactory(role=User.Role.HEAD, department=sales)
    anna = UserFactory(department=desk, first_name="Анна", last_name="А")
    boris = UserFactory(department=sales, first_name="Борис", last_name="Б")
    pipeline = PipelineFactory(name="Заказы")
    day = local("2026-11-02", 10)
    deal_path(pipeline=pipeline, at=day, responsible=anna, source="Сайт", moves=[(420, 2)])
    deal_path(pipeline=pipeline, at=day, responsible=anna, source="Сайт", moves=[(60, 1), (600, 2)])
    deal_path(pipeline=pipeline, at=day, responsible=boris, moves=[(30, 1), (100, 4)])
    deal_path(pipeline=pipeline, at=local("2026-10-20"), responsible=anna, source="Сайт", moves=[(120, 2)])
    customer = make_contact(first_name="Ольга")
    make_lead(contact=customer, at=day, source="Сайт", assignee=anna, status=Lead.Status.CONVERTED)
    make_lead(contact=customer, at=day, source="Сайт", assignee=anna, late=True)
    make_lead(contact=customer, at=day, assignee=boris)
    widget = jivo_channel(department=sales, name="Магазин")
    make_chat(channel=widget, at=day, operator=anna, replies=(30,), contact=customer)
    make_chat(channel=widget, at=day, replies=(), finished_after=600, contact=customer)  # waited, left
    make_chat(channel=widget, at=day, replies=(), finished_after=30, contact=customer)  # left at once
    make_chat(channel=widget, at=day, replies=(), offline=True, finished_after=None, contact=customer)
    make_chat(channel=widget, at=day, replies=(), spam=True, contact=customer)
    make_callback(at=day, closed_minutes=5, assignee=boris)
    make_callback(at=day, closed_minutes=20, assignee=boris)
    make_callback(at=day, assignee=anna)
    return {"sales": sales, "desk": desk, "head": head, "anna": anna, "boris": boris, "pipeline": pipeline}


def report(user, **params):
    return process_report(user=user, query=process_query_parse({**NOV, **params}), now=LATER)


def test_the_figures_of_a_month(shop, admin_user):
    totals = report(admin_user, compare="previous")["totals"]
    # orders: two processed (7 and 11 minutes), two paused (10 min and 100 s), one lost in its pause
    assert (totals["deals"], totals["processed"], totals["processing_seconds_avg"]) == (3, 2, 540.0)
    assert (totals["paused"], totals["pause_seconds_avg"], totals["lost_in_pause"]) == (2, 350.0, 1)
    assert totals["lost_in_pause_share"] == 50.0
    # leads: one converted of three, one not taken in time
    assert (totals["leads"], totals["leads_converted"], totals["conversion_share"], totals["leads_late"]) == (
        3, 1, 33.3, 1)
    # requests: spam apart; the visitor who waited 10 minutes and the offline message unanswered,
    # the one gone in 30 s apart
    assert (totals["requests"], totals["unanswered"], totals["left_quickly"], totals["offline"],
            totals["spam"]) == (4, 2, 1, 1, 1)
    assert totals["unanswered_share"] == 50.0
    # callbacks: one late, one still open past due; 5 and 20 minutes to the closed ones
    assert (totals["callbacks"], totals["callbacks_late"], totals["callback_seconds_avg"]) == (3, 2, 750.0)


def test_by_source_and_pipeline(shop, admin_user):
    rows = {r["key"]: r for r in report(admin_user, group_by="source")["rows"]}
    assert {k: (r["deals"], r["leads"], r["requests"], r["callbacks"]) for k, r in rows.items()} == {
        "Сайт": (2, 2, 0, 0), None: (1, 1, 0, 3), "Магазин": (0, 0, 4, 0)}
    assert rows["Сайт"]["conversion_share"] == 50.0
    with translation.override("en"):
        assert {r["key"]: r["label"] for r in report(admin_user, group_by="source")["rows"]}[None] == "No source"
    rows = {r["key"]: r for r in report(admin_user, group_by="pipeline")["rows"]}
    assert rows[shop["pipeline"].pk]["deals"] == 3 and rows[shop["pipeline"].pk]["label"] == "Заказы"


def test_what_counts_as_unanswered_is_a_setting(shop, admin_user):
    # when offline messages do not count and a visitor must stay 10 s only
    analytics_settings_update(actor=admin_user, unanswered_counts_offline=False, unanswered_min_stay_seconds=10)
    totals = report(admin_user)["totals"]
    # then the 30-second visitor is unanswered, the offline message is not
    assert (totals["unanswered"], totals["left_quickly"], totals["offline"]) == (2, 0, 1)


def test_a_head_sees_their_tree_and_a_manager_their_own(shop, api_as):
    anna = shop["anna"]
    body = api_as(anna).get(URL, **NOV, group_by="employee").json()
    assert [r["key"] for r in body["rows"]] == [anna.pk]
    row = body["rows"][0]
    assert (row["deals"], row["leads"], row["requests"], row["callbacks"], row["spam"]) == (2, 2, 1, 1, 0)
    head = api_as(shop["head"]).get(URL, **NOV, group_by="employee").json()
    assert head["totals"]["deals"] == 3 and head["totals"]["requests"] == 4
    r = api_as(anna).get(URL, **NOV, employee=str(shop["boris"].pk))
    assert r.status_code == 403 and r.json()["errors"][0]["field"] == "employee"


def test_api_shape_with_the_previous_period(shop, api):
    body = api.get(URL, **NOV, compare="previous").json()
    assert set(body) >= {"rows", "totals", "previous", "from", "to", "group_by"}
    assert body["previous"]["totals"]["deals"] == 1
    assert body["previous"]["totals"]["processing_seconds_avg"] == 120.0


@pytest.mark.parametrize("params, field", [
    ({"from": "2026-11-30", "to": "2026-11-01"}, "from"),
    ({"from": "2025-01-01", "to": "2026-11-01"}, "to"),
    ({**NOV, "group_by": "channel"}, "group_by"),
    ({**NOV, "compare": "yesterday"}, "compare"),
    ({**NOV, "status": "late"}, "status"),
    ({**NOV, "department": "0"}, "department"),
])
def test_bad_input_is_a_422_naming_the_field(api, db, params, field):
    r = api.get(URL, **params)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == field


def _put(user, body):
    return Client().put("/api/v1/analytics/settings", data=json.dumps(body), content_type="application/json",
                        headers={"Authorization": f"Bearer {ApiToken.issue(user)}"})


def test_settings_api_takes_what_counts_as_unanswered(api, admin_user):
    r = _put(admin_user, {"unanswered_min_stay_seconds": 120, "unanswered_counts_offline": False})
    assert r.status_code == 200
    assert (r.json()["unanswered_min_stay_seconds"], r.json()["unanswered_counts_offline"]) == (120, False)
    r = _put(admin_user, {"unanswered_min_stay_seconds": -1})
    assert r.status_code == 422 and "unanswered_min_stay_seconds" in r.text
    assert api.get("/api/v1/analytics/settings").json()["unanswered_min_stay_seconds"] == 120

