from datetime import datetime
from zoneinfo import ZoneInfo

from okno.robots.schedule import dry_run
from okno.robots.tests.factories import make_robot, stages, store_pipeline

MSK = ZoneInfo("Europe/Moscow")


def test_a_deal_arriving_friday_at_1750_is_due_monday_at_0920(db):
    # given: Mon-Fri 09:00-18:00
    pipeline = store_pipeline()
    new, paused = stages(pipeline)[:2]
    robot = make_robot(stage_id=new.pk, kind="deadline", within="PT30M", time="working")
    eod = make_robot(stage_id=new.pk, kind="deadline", until="end_of_working_day")
    later = make_robot(stage_id=new.pk, kind="action", trigger={"after": "PT1H", "time": "working"},
                       action={"type": "move_to_stage", "stage_id": paused.pk})
    at_ten = make_robot(stage_id=new.pk, kind="action", trigger={"at": "10:00"},
                        action={"type": "notify_responsible"})
    # when: Friday 2026-12-04 17:50 Moscow
    out = dry_run(pipeline=pipeline, stage=new, at=datetime(2026, 12, 4, 17, 50, tzinfo=MSK))
    # then
    due = {d["robot_id"]: d["due_at"].astimezone(MSK) for d in out["deadlines"]}
    assert due[robot.pk] == datetime(2026, 12, 7, 9, 20, tzinfo=MSK)
    assert due[eod.pk] == datetime(2026, 12, 4, 18, 0, tzinfo=MSK)
    runs = {a["robot_id"]: a["run_at"].astimezone(MSK) for a in out["actions"]}
    assert runs[later.pk] == datetime(2026, 12, 7, 9, 50, tzinfo=MSK)
    assert runs[at_ten.pk] == datetime(2026, 12, 7, 10, 0, tzinfo=MSK)


def test_dry_run_api_and_its_bad_input(api):
    # given
    pipeline = store_pipeline()
    new = stages(pipeline)[0]
    rid = api.post("/api/v1/robots", {"stage_id": new.pk, "kind": "deadline", "within": "PT30M"}).json()["id"]
    # when
    answer = api.post(f"/api/v1/pipelines/{pipeline.pk}/dry-run",
                      {"stage_id": new.pk, "at": "2026-12-04T17:50:00+03:00"})
    # then
    assert answer.status_code == 200, answer.content
    assert answer.json()["deadlines"][0] == {**answer.json()["deadlines"][0], "robot_id": rid,
                                             "due_at": "2026-12-07T09:20:00+03:00"}
    bad = api.post(f"/api/v1/pipelines/{pipeline.pk}/dry-run", {"stage_id": 0, "at": "friday"})
    assert bad.status_code == 400
    assert {e["field"] for e in bad.json()["errors"]} == {"stage_id", "at"}
    assert api.post("/api/v1/pipelines/999999/dry-run", {"stage_id": new.pk,
                                                         "at": "2026-12-04T17:50:00+03:00"}).status_code == 404


def test_a_calendar_without_working_time_counts_in_wall_time_instead_of_failing(db):
    # given: a calendar whose every day is off
    from okno.core.models import Calendar

    pipeline = store_pipeline()
    pipeline.calendar = Calendar.objects.create(name="Закрыто", timezone="Europe/Moscow", hours={}, country="")
    pipeline.save()
    new = stages(pipeline)[0]
    robot = make_robot(stage_id=new.pk, kind="deadline", within="PT30M")
    # when
    out = dry_run(pipeline=pipeline, stage=new, at=datetime(2026, 12, 4, 17, 50, tzinfo=MSK))
    # then
    assert out["deadlines"][0]["robot_id"] == robot.pk
    assert out["deadlines"][0]["due_at"] == datetime(2026, 12, 4, 18, 20, tzinfo=MSK)
