"""Two workers on the same rows at once (a lease lost mid-batch): nothing done twice."""

import threading

import pytest
from django.db import connection

from okno.contacts.tests.factories import make_contact
from okno.deals.tests.factories import make_deal
from okno.outbox.models import MessageTemplate, OutboxMessage
from okno.robots.drains import deadlines_settle, robot_runs_execute
from okno.robots.models import Deadline, RobotRun
from okno.robots.tests.factories import fall_due, make_robot, stages, store_pipeline


def _both(fn, ids):
    errors = []

    def work():
        try:
            fn(ids)
        except Exception as exc:  # pragma: no cover - shown by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


@pytest.mark.django_db(transaction=True)
def test_two_workers_on_the_same_runs_and_deadlines_do_each_once():
    # given
    pipeline = store_pipeline()
    new = stages(pipeline)[0]
    template = MessageTemplate.objects.create(name="T", channel="email", subject="Заказ", body="Спасибо")
    make_robot(stage_id=new.pk, kind="action", trigger={"on": "enter"},
               action={"type": "email_customer", "template_id": template.pk})
    make_robot(stage_id=new.pk, kind="deadline", within="PT30M", escalate={"action": "notify_head"})
    for i in range(20):
        make_deal(pipeline=pipeline, contact_id=make_contact(first_name=f"К{i}", emails=[f"k{i}@example.ru"]).pk)
    fall_due()
    # when: both workers hold the same ids
    _both(robot_runs_execute, list(RobotRun.objects.values_list("pk", flat=True)))
    _both(deadlines_settle, list(Deadline.objects.values_list("pk", flat=True)))
    # then
    assert OutboxMessage.objects.filter(kind="email").count() == 20
    assert RobotRun.objects.filter(purpose="action", status="done").count() == 20
    assert Deadline.objects.filter(status="missed").count() == 20
    assert RobotRun.objects.filter(purpose="escalation").count() == 20
