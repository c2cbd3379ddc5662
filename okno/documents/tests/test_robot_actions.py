"""The robots' "send a document" action: a robot on "Confirmed" makes a supplier order per
supplier and e-mails each, once per run however often the run is executed."""

from okno.deals.deal_services import deal_move_to_stage
from okno.deals.models import Stage
from okno.documents.models import Document, DocumentKind
from okno.documents.robot_actions import SEND, _clean
from okno.documents.tests.factories import make_deal_with_lines, make_supplier, make_template
from okno.outbox.models import OutboxMessage
from okno.robots import rule_cache
from okno.robots.drains import robot_run_execute
from okno.robots.models import Robot, RobotRun


def test_a_robot_on_confirmed_sends_supplier_orders(admin_user, fake_pdf):
    # given a robot "on entering Подтверждён: send the supplier order" and an order of two suppliers
    a, b = make_supplier("Альфа", "a@supplier.ru"), make_supplier("Бета", "b@supplier.ru")
    deal = make_deal_with_lines(suppliers=[a, b])
    confirmed = Stage.objects.get(pipeline=deal.pipeline, name="Подтверждён")
    template = make_template(kind=DocumentKind.SUPPLIER_ORDER, user=admin_user)
    Robot.objects.create(pipeline=deal.pipeline, stage=confirmed, kind=Robot.Kind.ACTION,
                         trigger=Robot.Trigger.ENTER, action=SEND, action_params={"template_id": template.pk})
    rule_cache.forget()
    # when the deal enters the stage and its run is executed (twice, as after a lost lease)
    deal_move_to_stage(deal=deal, stage=confirmed, actor=admin_user)
    run = RobotRun.objects.get(deal=deal)
    robot_run_execute(run.pk)
    RobotRun.objects.filter(pk=run.pk).update(status=RobotRun.Status.PENDING)
    robot_run_execute(run.pk)
    # then one order per supplier, each e-mailed once
    assert Document.objects.filter(deal=deal).count() == 2
    assert sorted(m.payload["to"] for m in OutboxMessage.objects.all()) == ["a@supplier.ru", "b@supplier.ru"]


def test_the_parameters_are_checked(admin_user):
    errors: dict = {}
    _clean({"template_id": 999}, errors)
    assert errors == {"action.template_id": "no such document template"}
