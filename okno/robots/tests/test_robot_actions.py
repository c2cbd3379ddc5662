import json

from okno.deals.models import Deal
from okno.deals.tests.factories import make_deal
from okno.outbox.models import OutboxMessage, WebhookEndpoint
from okno.people.models import User
from okno.people.tests.factories import UserFactory
from okno.push.models import Push
from okno.robots.drains import robot_runs_drain
from okno.robots.models import RobotRun
from okno.robots.tests.factories import make_admin, stages, store_pipeline


def test_notify_responsible_pushes_to_their_pages_and_emails_them(db):
    # given
    from okno.robots.tests.factories import make_robot

    pipeline = store_pipeline()
    manager = UserFactory(email="anna@example.ru")
    make_robot(stage_id=stages(pipeline)[0].pk, kind="action", trigger={"on": "enter"}, name="Новый заказ",
               action={"type": "notify_responsible", "text": "Позвоните клиенту"})
    deal = make_deal(pipeline=pipeline, actor=manager)
    # when
    robot_runs_drain()
    # then
    push = Push.objects.get(user=manager, kind="robot")
    assert push.payload["text"] == "Позвоните клиенту" and f"/deals/{deal.pk}/" in push.payload["url"]
    mail = OutboxMessage.objects.get(kind="email")
    assert mail.payload["to"] == "anna@example.ru" and mail.deal_id == deal.pk


def test_a_webhook_robot_queues_a_signed_delivery_to_its_own_endpoint(db):
    # given: an administrator names a URL on the local network (allowed explicitly)
    from okno.robots.services import robot_create

    pipeline = store_pipeline()
    robot = robot_create(actor=make_admin(), data={
        "stage_id": stages(pipeline)[0].pk, "kind": "action", "trigger": {"on": "enter"},
        "action": {"type": "webhook", "url": "http://127.0.0.1:8765/hook", "allow_private_network": True}})
    endpoint = WebhookEndpoint.objects.get(pk=robot.action_params["endpoint_id"])
    assert endpoint.url == "http://127.0.0.1:8765/hook" and endpoint.events == []
    deal = make_deal(pipeline=pipeline, title="Заказ 5")
    # when
    robot_runs_drain()
    # then
    delivery = OutboxMessage.objects.get(kind="webhook")
    body = json.loads(delivery.payload["body"])
    assert delivery.endpoint == endpoint and body["type"] == "robot.webhook"
    assert body["data"]["deal_id"] == deal.pk and body["data"]["title"] == "Заказ 5"


def test_a_manager_may_not_allow_a_private_address(db):
    from okno.core.errors import FieldError
    from okno.robots.rules import robot_data_clean

    pipeline = store_pipeline()
    try:
        robot_data_clean({"stage_id": stages(pipeline)[0].pk, "kind": "action", "trigger": {"on": "enter"},
                          "action": {"type": "webhook", "url": "http://10.0.0.5/x", "allow_private_network": True}},
                         actor=UserFactory())
    except FieldError as exc:
        assert "action.allow_private_network" in exc.by_field
    else:
        raise AssertionError("refused")


def test_change_responsible_by_round_robin_in_a_department(db):
    # given
    from okno.robots.tests.factories import make_robot

    pipeline = store_pipeline()
    first = UserFactory(at_work=True)
    second = UserFactory(at_work=True, department=first.department)
    make_robot(stage_id=stages(pipeline)[0].pk, kind="action", trigger={"on": "enter"},
               action={"type": "change_responsible", "department_id": first.department_id})
    # when
    deals = [make_deal(pipeline=pipeline) for _ in range(2)]
    robot_runs_drain()
    # then
    owners = {Deal.objects.get(pk=d.pk).responsible_id for d in deals}
    assert owners == {first.pk, second.pk}
    assert RobotRun.objects.filter(status="done").count() == 2
    assert User.objects.get(pk=first.pk).is_active
