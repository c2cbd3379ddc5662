from datetime import timedelta

from django.utils import timezone

from okno.deals.models import Deal, DealStageChange
from okno.deals.pipeline_services import deal_move_to_stage
from okno.deals.tests.factories import make_deal
from okno.outbox.models import OutboxMessage
from okno.people.models import User
from okno.people.tests.factories import UserFactory
from okno.push.models import Push
from okno.robots.drains import deadlines_drain, robot_runs_drain
from okno.robots.models import Deadline, RobotRun
from okno.robots.tests.factories import fall_due, make_robot, stages, store_pipeline


def test_a_deal_entering_a_stage_opens_its_deadline_on_the_calendar(db):
    # given
    pipeline = store_pipeline()
    new = stages(pipeline)[0]
    robot = make_robot(stage_id=new.pk, kind="deadline", within="PT30M", time="wall")
    # when
    deal = make_deal(pipeline=pipeline)
    # then
    deadline = Deadline.objects.get(deal=deal)
    assert deadline.robot == robot and deadline.status == Deadline.Status.OPEN and deadline.level == 1
    assert deadline.due_at == deal.stage_entered_at + timedelta(minutes=30)


def test_leaving_the_stage_in_time_meets_the_deadline(db):
    # given
    pipeline = store_pipeline()
    new, paused = stages(pipeline)[:2]
    make_robot(stage_id=new.pk, kind="deadline", within="PT30M", escalate={"action": "notify_head"})
    deal = make_deal(pipeline=pipeline)
    # when
    deal_move_to_stage(deal=deal, stage=paused)
    fall_due(Deadline.objects.all())
    deadlines_drain()
    # then
    deadline = Deadline.objects.get(deal=deal)
    assert deadline.status == Deadline.Status.MET and deadline.closed_at is not None
    assert not Deal.objects.get(pk=deal.pk).is_overdue
    assert not RobotRun.objects.exists()


def test_a_missed_deadline_marks_the_deal_overdue_notifies_the_head_and_opens_level_two(db):
    # given
    pipeline = store_pipeline()
    new, _paused, confirmed = stages(pipeline)[:3]
    manager = UserFactory(email="m@example.ru")
    head = UserFactory(role=User.Role.HEAD, department=manager.department, email="head@example.ru")
    first = make_robot(stage_id=new.pk, kind="deadline", within="PT30M", escalate={"action": "notify_head"})
    second = make_robot(stage_id=new.pk, kind="deadline", within="PT1H", parent_id=first.pk,
                        escalate={"action": "move", "stage_id": confirmed.pk})
    deal = make_deal(pipeline=pipeline, actor=manager)
    fall_due()
    # when
    assert deadlines_drain() == 1
    robot_runs_drain()
    # then
    missed = Deadline.objects.get(deal=deal, level=1)
    assert missed.status == Deadline.Status.MISSED and missed.closed_at is not None
    assert missed.escalated_at is not None
    assert Deal.objects.get(pk=deal.pk).is_overdue
    assert Push.objects.filter(user=head, kind="robot").count() == 1
    assert OutboxMessage.objects.filter(kind="email", payload__to="head@example.ru").count() == 1
    level2 = Deadline.objects.get(deal=deal, level=2)
    assert level2.robot == second and level2.status == Deadline.Status.OPEN
    # and when the second level is missed too, the deal moves on (a robot's move)
    fall_due()
    deadlines_drain()
    robot_runs_drain()
    deal.refresh_from_db()
    assert deal.stage == confirmed and not deal.is_overdue
    assert DealStageChange.objects.filter(deal=deal, via="robot").count() == 1
    assert Deadline.objects.get(pk=level2.pk).status == Deadline.Status.MISSED


def test_a_deadline_is_missed_once_even_when_claimed_twice(db):
    # given
    pipeline = store_pipeline()
    new = stages(pipeline)[0]
    make_robot(stage_id=new.pk, kind="deadline", within="PT30M", escalate={"action": "notify_head"})
    deal = make_deal(pipeline=pipeline)
    fall_due()
    # when: the first worker's lease ran out and a second one claimed the same row
    deadlines_drain()
    Deadline.objects.update(status=Deadline.Status.OPEN, locked_until=None)  # as seen by a stale worker
    from okno.robots.drains import deadlines_settle
    deadlines_settle(list(Deadline.objects.values_list("pk", flat=True)))
    # then: one escalation, never two
    assert RobotRun.objects.filter(deal=deal, purpose="escalation").count() == 1


def test_a_lead_deadline_escalates_to_the_department_head(db):
    # given
    from okno.contacts.tests.factories import make_contact
    from okno.deals.models import Lead
    from okno.deals.services import lead_create

    head = UserFactory(role=User.Role.HEAD, email="head@example.ru")
    make_robot(for_leads=True, kind="deadline", within="PT15M", time="wall", escalate={"action": "notify_head"})
    lead = lead_create(contact=make_contact())
    Lead.objects.filter(pk=lead.pk).update(department=head.department)
    deadline = Deadline.objects.get(lead=lead)
    assert deadline.due_at == lead.created_at + timedelta(minutes=15)
    fall_due()
    # when
    deadlines_drain()
    robot_runs_drain()
    # then
    assert Deadline.objects.get(pk=deadline.pk).status == Deadline.Status.MISSED
    assert Push.objects.filter(user=head, kind="robot").count() == 1


def test_a_lead_taken_in_time_meets_its_deadline(db):
    # given
    from okno.contacts.tests.factories import make_contact
    from okno.deals.models import Lead
    from okno.deals.services import lead_create

    make_robot(for_leads=True, kind="deadline", within="PT15M", escalate={"action": "notify_head"})
    lead = lead_create(contact=make_contact())
    Lead.objects.filter(pk=lead.pk).update(status=Lead.Status.IN_WORK, updated_at=timezone.now())
    fall_due()
    # when
    deadlines_drain()
    # then
    assert Deadline.objects.get(lead=lead).status == Deadline.Status.MET
    assert not RobotRun.objects.exists()
