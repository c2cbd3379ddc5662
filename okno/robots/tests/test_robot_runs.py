from datetime import timedelta

from django.utils import timezone

from okno.contacts.tests.factories import make_contact
from okno.deals.models import DealStageChange
from okno.deals.pipeline_services import deal_move_to_stage
from okno.deals.tests.factories import make_deal
from okno.outbox.models import MessageTemplate, OutboxMessage
from okno.robots import drains
from okno.robots.actions import LOOP_MOVES
from okno.robots.drains import robot_run_execute, robot_runs_drain
from okno.robots.models import RegisterEntry, RobotRun
from okno.robots.tests.factories import make_robot, runs_due, stages, store_pipeline
from okno.work.models import WorkItem


def _email_template():
    return MessageTemplate.objects.create(name="Спасибо", channel="email", subject="Заказ {{ deal.title }}",
                                          body="Спасибо за заказ, {{ contact.name }}!")


def _customer():
    return make_contact(first_name="Иван", emails=["ivan@example.ru"])


def test_an_on_enter_robot_emails_the_customer_through_the_outbox_once(db):
    # given
    pipeline = store_pipeline()
    robot = make_robot(stage_id=stages(pipeline)[0].pk, kind="action", trigger={"on": "enter"},
                       action={"type": "email_customer", "template_id": _email_template().pk})
    deal = make_deal(pipeline=pipeline, contact_id=_customer().pk, title="№ 77")
    # when: the drain runs twice
    assert robot_runs_drain() == 1
    assert robot_runs_drain() == 0
    # then
    run = RobotRun.objects.get(robot=robot, deal=deal)
    assert run.status == RobotRun.Status.DONE and "ivan@example.ru" in run.result
    mail = OutboxMessage.objects.get(kind="email")
    assert mail.payload["to"] == "ivan@example.ru" and "№ 77" in mail.payload["subject"]
    assert mail.deal_id == deal.pk


def test_a_run_whose_lease_ran_out_mid_run_is_not_done_twice(db):
    # given: a worker claimed the run, and its lease ran out while it was still at work
    pipeline = store_pipeline()
    make_robot(stage_id=stages(pipeline)[0].pk, kind="action", trigger={"on": "enter"},
               action={"type": "email_customer", "template_id": _email_template().pk})
    make_deal(pipeline=pipeline, contact_id=_customer().pk)
    run = RobotRun.objects.get()
    assert robot_runs_drain() == 1
    # when: a second worker claims it again after the lease and the first finishes late
    RobotRun.objects.filter(pk=run.pk).update(locked_until=timezone.now() - timedelta(seconds=1))
    robot_runs_drain()
    robot_run_execute(run.pk)
    # then
    assert OutboxMessage.objects.filter(kind="email").count() == 1
    # and even a run forced back to pending sends under the same key: the outbox keeps one
    RobotRun.objects.filter(pk=run.pk).update(status=RobotRun.Status.PENDING)
    robot_run_execute(run.pk)
    assert OutboxMessage.objects.filter(kind="email").count() == 1


def test_a_delayed_run_of_a_stage_the_deal_left_is_skipped(db):
    # given
    pipeline = store_pipeline()
    new, paused = stages(pipeline)[:2]
    make_robot(stage_id=new.pk, kind="action", trigger={"after": "PT1H", "time": "wall"},
               action={"type": "register", "register_name": "late"})
    deal = make_deal(pipeline=pipeline)
    run = RobotRun.objects.get()
    assert run.run_after == deal.stage_entered_at + timedelta(hours=1)
    # when
    deal_move_to_stage(deal=deal, stage=paused)
    runs_due()
    robot_runs_drain()
    # then
    assert RobotRun.objects.get(pk=run.pk).status == RobotRun.Status.SKIPPED
    assert not RegisterEntry.objects.exists()


def test_work_item_register_and_condition_robots(db):
    # given
    pipeline = store_pipeline()
    new = stages(pipeline)[0]
    make_robot(stage_id=new.pk, kind="action", trigger={"on": "enter"},
               action={"type": "create_work_item", "title": "Позвонить клиенту", "due": "PT2H", "time": "wall"})
    make_robot(stage_id=new.pk, kind="action", trigger={"when": {"field": "amount", "op": "gte", "value": "10000"}},
               action={"type": "register", "register_name": "big-orders"})
    deal = make_deal(pipeline=pipeline, amount="500")
    # when
    robot_runs_drain()
    from okno.deals.deal_services import deal_data_clean, deal_update
    deal_update(actor=None, deal=deal, data=deal_data_clean({"amount": "15000"}, pipeline=pipeline, partial=True))
    robot_runs_drain()
    deal_update(actor=None, deal=deal, data=deal_data_clean({"amount": "16000"}, pipeline=pipeline, partial=True))
    robot_runs_drain()
    # then
    item = WorkItem.objects.get(deal=deal)
    assert item.kind == WorkItem.Kind.TASK and item.title == "Позвонить клиенту"
    assert RegisterEntry.objects.filter(name="big-orders", deal=deal).count() == 1
    assert RobotRun.objects.filter(robot__action="register").count() == 1


def test_the_loop_guard_stops_robots_moving_a_deal_back_and_forth(db):
    # given: two robots send the deal between two stages for ever
    pipeline = store_pipeline()
    new, paused = stages(pipeline)[:2]
    make_robot(stage_id=new.pk, kind="action", trigger={"on": "enter"},
               action={"type": "move_to_stage", "stage_id": paused.pk})
    make_robot(stage_id=paused.pk, kind="action", trigger={"on": "enter"},
               action={"type": "move_to_stage", "stage_id": new.pk})
    deal = make_deal(pipeline=pipeline)
    # when
    for _ in range(30):
        if not robot_runs_drain():
            break
    # then
    moves = DealStageChange.objects.filter(deal=deal, via="robot").count()
    assert moves == LOOP_MOVES
    failed = RobotRun.objects.get(deal=deal, status=RobotRun.Status.FAILED)
    assert "loop stopped" in failed.error
    assert not RobotRun.objects.filter(status=RobotRun.Status.PENDING).exists()


def test_a_failing_run_is_retried_with_back_off_then_waits_for_a_person(db):
    # given: the customer has no usable e-mail address (outbox refuses it)
    pipeline = store_pipeline()
    make_robot(stage_id=stages(pipeline)[0].pk, kind="action", trigger={"on": "enter"},
               action={"type": "email_customer", "template_id": _email_template().pk})
    make_deal(pipeline=pipeline, contact_id=make_contact(first_name="Б", emails=["bad@example.ru"]).pk)
    from okno.contacts.models import ContactEmail
    ContactEmail.objects.update(email="not-an-address")
    run = RobotRun.objects.get()
    # when
    robot_runs_drain()
    # then: retried in 30 s
    run.refresh_from_db()
    assert run.status == RobotRun.Status.PENDING and run.attempts == 1 and "not a valid" in run.error
    assert timezone.now() + timedelta(seconds=20) < run.run_after < timezone.now() + timedelta(seconds=31)
    # when every retry fails
    for _ in range(len(drains.BACKOFF)):
        runs_due()
        robot_runs_drain()
    # then
    run.refresh_from_db()
    assert run.status == RobotRun.Status.WAITING and run.attempts == len(drains.BACKOFF) + 1
    # and a person fixes the address and retries
    from okno.robots.services import robot_run_retry
    from okno.robots.tests.factories import make_admin
    ContactEmail.objects.update(email="fixed@example.ru")
    robot_run_retry(actor=make_admin(), run=run)
    robot_runs_drain()
    assert RobotRun.objects.get(pk=run.pk).status == RobotRun.Status.DONE
