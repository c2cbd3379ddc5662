from okno.contacts.tests.factories import make_contact
from okno.core import events
from okno.deals.tests.factories import make_deal
from okno.robots.drains import robot_runs_drain
from okno.robots.models import RobotRun
from okno.robots.tests.factories import make_robot, stages, store_pipeline


def test_a_customer_message_moves_a_paused_deal_back_once_per_message(db):
    # given: "a customer who writes while the order is paused puts it back to New"
    pipeline = store_pipeline()
    new, paused = stages(pipeline)[:2]
    make_robot(stage_id=paused.pk, kind="action", trigger={"event": "message.received"},
               action={"type": "move_to_stage", "stage_id": new.pk})
    contact = make_contact()
    deal = make_deal(pipeline=pipeline, contact_id=contact.pk)
    from okno.deals.pipeline_services import deal_move_to_stage
    deal_move_to_stage(deal=deal, stage=paused)

    class Message:
        pk = 501

    # when: the inbox publishes it (twice: a replay)
    for _ in range(2):
        events.publish("message.received", subject=Message(), data={"contact_id": contact.pk, "deal_ids": [deal.pk]})
    robot_runs_drain()
    # then
    deal.refresh_from_db()
    assert deal.stage == new
    assert RobotRun.objects.filter(deal=deal, entry="message.received:501", status="done").count() == 1


def test_a_missed_call_finds_the_contacts_open_deals(db):
    # given
    pipeline = store_pipeline()
    new = stages(pipeline)[0]
    make_robot(stage_id=new.pk, kind="action", trigger={"event": "call.missed"},
               action={"type": "register", "register_name": "missed-calls"})
    contact = make_contact()
    deal = make_deal(pipeline=pipeline, contact_id=contact.pk)

    class Call:
        pk = 77

    # when
    events.publish("call.missed", subject=Call(), data={"call_id": 77, "contact_id": contact.pk})
    robot_runs_drain()
    # then
    assert RobotRun.objects.get(deal=deal).status == "done"
