"""A work item closed as done: once, through the API or My day, and the deal's robots hear of it."""

from datetime import timedelta

from django.test import Client
from django.utils import timezone

from okno.contacts.tests.factories import make_contact
from okno.deals.pipeline_services import deal_move_to_stage
from okno.deals.tests.factories import make_deal
from okno.people.tests.factories import UserFactory
from okno.robots.drains import robot_runs_drain
from okno.robots.tests.factories import make_robot, stages, store_pipeline
from okno.work.models import WorkItem


def _paused_deal_with_a_task(manager):
    # "when the manager has done the task on a paused order, the order goes back to New"
    pipeline = store_pipeline()
    new, paused = stages(pipeline)[:2]
    make_robot(stage_id=paused.pk, kind="action", trigger={"event": "workitem.done"},
               action={"type": "move_to_stage", "stage_id": new.pk})
    contact = make_contact(actor=manager)
    deal = make_deal(pipeline=pipeline, contact_id=contact.pk)
    deal_move_to_stage(deal=deal, stage=paused)
    item = WorkItem.objects.create(kind=WorkItem.Kind.TASK, title="Уточнить адрес", deal=deal, contact=contact,
                                   assignee=manager, due_at=timezone.now() + timedelta(hours=1))
    return deal, item, new


def test_done_through_the_api_closes_once_and_the_deals_robot_runs(db, api_as):
    manager = UserFactory(role="manager")
    deal, item, new = _paused_deal_with_a_task(manager)
    api = api_as(manager)
    # when the manager marks it done, twice
    first = api.post(f"/api/v1/work-items/{item.pk}/done", {"reason": "адрес уточнён"})
    second = api.post(f"/api/v1/work-items/{item.pk}/done", {})
    robot_runs_drain()
    # then it is done once, with its reason, and the robot moved the deal back to New
    assert first.status_code == 200 and first.json()["status"] == "done"
    assert second.json()["closed_reason"] == "адрес уточнён"
    deal.refresh_from_db()
    assert deal.stage == new


def test_another_persons_item_is_404_and_my_day_has_a_done_button(db, api_as):
    manager, stranger = UserFactory(role="manager"), UserFactory(role="manager")
    _deal, item, _new = _paused_deal_with_a_task(manager)
    assert api_as(stranger).post(f"/api/v1/work-items/{item.pk}/done", {}).status_code == 404
    client = Client()
    client.force_login(manager)
    assert f"/work-items/{item.pk}/done/" in client.get("/").content.decode()
    assert client.post(f"/work-items/{item.pk}/done/").status_code == 302
    item.refresh_from_db()
    assert item.status == WorkItem.Status.DONE
