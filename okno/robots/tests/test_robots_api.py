from okno.deals.tests.factories import make_deal
from okno.people.tests.factories import UserFactory
from okno.robots.models import Robot, RobotRun
from okno.robots.tests.factories import stages, store_pipeline


def test_create_a_deadline_and_an_action_robot_and_list_them(api):
    # given
    pipeline = store_pipeline()
    new, paused = stages(pipeline)[:2]
    # when
    r1 = api.post("/api/v1/robots", {"stage_id": new.pk, "kind": "deadline", "within": "PT30M", "time": "working",
                                     "escalate": {"action": "move", "stage_id": paused.pk}})
    r2 = api.post("/api/v1/robots", {"stage_id": new.pk, "kind": "action", "trigger": {"after": "PT1H"},
                                     "action": {"type": "notify_responsible"}})
    listed = api.get("/api/v1/robots", pipeline_id=pipeline.pk)
    # then
    assert r1.status_code == 201 and r2.status_code == 201, (r1.json(), r2.json())
    robot = Robot.objects.get(pk=r1.json()["id"])
    assert robot.within == "PT30M" and robot.escalation == "move" and robot.escalation_params == {"stage_id": paused.pk}
    assert Robot.objects.get(pk=r2.json()["id"]).trigger_params == {"after": "PT1H", "time": "working"}
    assert [r["id"] for r in listed.json()] == [r1.json()["id"], r2.json()["id"]]


def test_patch_and_delete_a_robot(api):
    # given
    pipeline = store_pipeline()
    rid = api.post("/api/v1/robots", {"stage_id": stages(pipeline)[0].pk, "kind": "deadline",
                                      "within": "PT30M"}).json()["id"]
    # when
    patched = api.patch(f"/api/v1/robots/{rid}", {"until": "end_of_working_day"})
    # then
    assert patched.status_code == 200 and patched.json()["until"] == "end_of_working_day"
    assert patched.json()["within"] is None
    assert api.delete(f"/api/v1/robots/{rid}").status_code == 204
    assert not Robot.objects.exists()


def test_bad_input_is_a_400_naming_the_field(api):
    # given
    pipeline = store_pipeline()
    new = stages(pipeline)[0]
    cases = [
        ({"stage_id": new.pk, "kind": "deadline", "within": "30 minutes"}, "within"),
        ({"stage_id": new.pk, "kind": "deadline", "within": "P1M"}, "within"),
        ({"stage_id": 999999, "kind": "deadline", "within": "PT30M"}, "stage_id"),
        ({"stage_id": new.pk, "kind": "deadline", "within": "PT30M", "time": "moon"}, "time"),
        ({"stage_id": new.pk, "kind": "action", "trigger": {"after": "soon"}, "action": {"type": "notify_responsible"}},
         "trigger.after"),
        ({"stage_id": new.pk, "kind": "action", "trigger": {"at": "25:00"}, "action": {"type": "notify_responsible"}},
         "trigger.at"),
        ({"stage_id": new.pk, "kind": "action", "trigger": {"on": "enter"}, "action": {"type": "teleport"}},
         "action.type"),
        ({"stage_id": new.pk, "kind": "action", "trigger": {"on": "enter"},
          "action": {"type": "email_customer", "template_id": 424242}}, "action.template_id"),
        ({"stage_id": new.pk, "kind": "action", "trigger": {"on": "enter"},
          "action": {"type": "webhook", "url": "ftp://example.ru/x"}}, "action.url"),
        ({"stage_id": new.pk, "kind": "action", "trigger": {"on": "enter"},
          "action": {"type": "webhook", "url": "http://127.0.0.1:9/x"}}, "action.url"),
        ({"stage_id": new.pk, "kind": "action", "trigger": {"on": "enter"},
          "action": {"type": "move_to_stage", "stage_id": new.pk}}, "action.stage_id"),
        ({"stage_id": new.pk, "kind": "robot"}, "kind"),
    ]
    for body, field in cases:
        # when
        answer = api.post("/api/v1/robots", body)
        # then
        assert answer.status_code == 400, (body, answer.content)
        assert field in [e["field"] for e in answer.json()["errors"]], (body, answer.json())
    assert not Robot.objects.exists()


def test_only_an_administrator_sets_up_robots(db, api_as):
    pipeline = store_pipeline()
    answer = api_as(UserFactory()).post("/api/v1/robots", {"stage_id": stages(pipeline)[0].pk, "kind": "deadline",
                                                           "within": "PT30M"})
    assert answer.status_code == 403 and not Robot.objects.exists()


def test_the_deal_answers_its_deadlines_and_its_robot_log(api, api_as):
    # given
    pipeline = store_pipeline()
    new = stages(pipeline)[0]
    rid = api.post("/api/v1/robots", {"stage_id": new.pk, "kind": "deadline", "within": "PT30M"}).json()["id"]
    api.post("/api/v1/robots", {"stage_id": new.pk, "kind": "action", "trigger": {"on": "enter"},
                                "action": {"type": "register", "register_name": "orders"}})
    stranger = UserFactory()
    deal = make_deal(pipeline=pipeline, actor=UserFactory())
    # when
    got = api.get(f"/api/v1/deals/{deal.pk}")
    log = api.get(f"/api/v1/deals/{deal.pk}/robot-runs")
    # then
    assert got.status_code == 200
    [deadline] = got.json()["deadlines"]
    assert deadline["robot_id"] == rid and deadline["status"] == "open" and deadline["closed_at"] is None
    assert "+" in deadline["due_at"] or deadline["due_at"].endswith("Z")
    assert [r["status"] for r in log.json()] == ["pending"]
    assert api_as(stranger).get(f"/api/v1/deals/{deal.pk}/robot-runs").status_code == 404


def test_retry_a_waiting_run_and_read_a_register(api):
    # given
    pipeline = store_pipeline()
    api.post("/api/v1/robots", {"stage_id": stages(pipeline)[0].pk, "kind": "action", "trigger": {"on": "enter"},
                                "action": {"type": "register", "register_name": "orders"}})
    deal = make_deal(pipeline=pipeline)
    RobotRun.objects.update(status=RobotRun.Status.WAITING, error="boom")
    run = RobotRun.objects.get()
    # when
    retried = api.post(f"/api/v1/robot-runs/{run.pk}/retry")
    from okno.robots.drains import robot_runs_drain
    robot_runs_drain()
    register = api.get("/api/v1/registers/orders")
    # then
    assert retried.status_code == 200 and retried.json()["status"] == "pending"
    assert register.json()["count"] == 1 and register.json()["entries"][0]["deal_id"] == deal.pk
    assert register.json()["entries"][0]["snapshot"]["title"] == deal.title


def test_escalate_takes_type_as_actions_do(api):
    pipeline = store_pipeline()
    new, paused = stages(pipeline)[:2]
    answer = api.post("/api/v1/robots", {"stage_id": new.pk, "kind": "deadline", "within": "PT30M",
                                         "escalate": {"type": "move_to_stage", "stage_id": paused.pk}})
    assert answer.status_code == 201, answer.json()
    assert Robot.objects.get().escalation == "move"
