"""The batch path of the runs drain (one transaction, robots and deals read once) ends every run
as running them one by one does, including a deal a run moves under the batch's feet."""

from okno.deals.tests.factories import make_deal
from okno.robots.drains import robot_run_execute, robot_runs_execute
from okno.robots.models import RobotRun
from okno.robots.tests.factories import make_robot, stages, store_pipeline


def _world():
    pipeline = store_pipeline()
    new, paused = stages(pipeline)[:2]
    make_robot(stage_id=new.pk, kind="action", trigger={"on": "enter"},
               action={"type": "register", "register_name": "first"})
    make_robot(stage_id=new.pk, kind="action", trigger={"on": "enter"},
               action={"type": "move_to_stage", "stage_id": paused.pk})
    make_robot(stage_id=new.pk, kind="action", trigger={"on": "enter"},
               action={"type": "register", "register_name": "after-the-move"})
    make_robot(stage_id=paused.pk, kind="action", trigger={"on": "enter"},
               action={"type": "create_work_item", "title": "Позвонить", "due": "PT1H"})
    for _ in range(3):
        make_deal(pipeline=pipeline)


def _outcome():
    return sorted((r.robot.name or r.robot.action, r.robot.action_params.get("register_name", ""), r.status,
                   r.result.split(" due ")[0].split("#")[0])
                  for r in RobotRun.objects.select_related("robot"))


def _drain(execute):
    for _ in range(5):
        ids = list(RobotRun.objects.filter(status="pending").order_by("run_after", "pk").values_list("pk", flat=True))
        if not ids:
            return
        execute(ids)


def test_batch_and_one_by_one_end_the_same(db):
    # given the same world twice
    _world()
    # when: one by one
    _drain(lambda ids: [robot_run_execute(pk) for pk in ids])
    one_by_one = _outcome()
    from okno.deals.models import Deal
    from okno.robots.models import RegisterEntry, Robot
    from okno.work.models import WorkItem

    WorkItem.objects.all().delete()
    RegisterEntry.objects.all().delete()
    RobotRun.objects.all().delete()
    Robot.objects.all().delete()
    Deal.objects.all().delete()
    _world()
    # and in batches
    _drain(robot_runs_execute)
    # then
    assert _outcome() == one_by_one
    assert {s for *_, s, _r in one_by_one} >= {"done", "skipped"}
