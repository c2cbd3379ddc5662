import io

from openpyxl import load_workbook

from okno.deals.tests.factories import make_deal
from okno.people.tests.factories import UserFactory
from okno.robots.drains import robot_runs_drain
from okno.robots.models import Robot, RobotRun
from okno.robots.tests.factories import make_robot, stages, store_pipeline


def test_the_settings_page_shows_stages_with_their_robots_and_the_dry_run(client, admin_user):
    # given
    pipeline = store_pipeline()
    new = stages(pipeline)[0]
    make_robot(stage_id=new.pk, kind="deadline", within="PT30M", name="Обработать за 30 минут")
    client.force_login(admin_user)
    # when: a deal arriving Friday 17:50 (the page reads the time in the user's zone, Moscow)
    page = client.get(f"/robots/pipelines/{pipeline.pk}/", {"at": "2026-12-04T17:50", "stage": new.pk})
    # then
    html = page.content.decode()
    assert page.status_code == 200
    assert "Обработать за 30 минут" in html and new.name in html
    assert "09:20" in html and 'id="dry-run-result"' in html


def test_a_robot_is_added_with_the_form_no_json(client, admin_user):
    # given
    pipeline = store_pipeline()
    new, paused = stages(pipeline)[:2]
    client.force_login(admin_user)
    assert client.get(f"/robots/new/?stage={new.pk}&kind=action").status_code == 200
    # when
    answer = client.post(f"/robots/new/?stage={new.pk}&kind=action", {
        "kind": "action", "name": "В паузу через час", "is_active": "on", "trigger": "after", "after_amount": "1",
        "after_unit": "H", "after_time": "working", "action": "move_to_stage", "stage": paused.pk})
    # then
    assert answer.status_code == 302, answer.content.decode()[:3000]
    robot = Robot.objects.get()
    assert robot.trigger_params == {"after": "PT1H", "time": "working"} and robot.action_params == {
        "stage_id": paused.pk}
    assert robot.is_active
    # and a bad value is shown on its field
    bad = client.post(f"/robots/new/?stage={new.pk}&kind=deadline", {"kind": "deadline", "deadline_mode": "within"})
    assert bad.status_code == 200 and Robot.objects.count() == 1
    # and editing shows the saved values
    edit = client.get(f"/robots/{robot.pk}/")
    assert edit.status_code == 200 and "В паузу через час" in edit.content.decode()


def test_robot_problems_page_retries_and_register_export(client, admin_user):
    # given
    pipeline = store_pipeline()
    make_robot(stage_id=stages(pipeline)[0].pk, kind="action", trigger={"on": "enter"},
               action={"type": "register", "register_name": "confirmed"})
    deal = make_deal(pipeline=pipeline, title="Заказ 1")
    RobotRun.objects.update(status=RobotRun.Status.WAITING, error="RuntimeError: boom")
    client.force_login(admin_user)
    # when
    page = client.get("/robots/problems/")
    client.post("/robots/problems/retry/", {"only": RobotRun.objects.get().pk})
    robot_runs_drain()
    export = client.get("/robots/registers/confirmed/export.xlsx")
    # then
    assert page.status_code == 200 and "RuntimeError: boom" in page.content.decode()
    assert RobotRun.objects.get().status == RobotRun.Status.DONE
    rows = list(load_workbook(io.BytesIO(export.content)).active.iter_rows(values_only=True))
    assert rows[1][1] == deal.pk and rows[1][2] == "Заказ 1"


def test_robot_pages_are_for_administrators(client, db):
    client.force_login(UserFactory())
    assert client.get("/robots/").status_code == 403
    assert client.get("/robots/problems/").status_code == 403


def test_a_lead_deadline_for_one_department_is_added_with_the_form(client, admin_user):
    # given
    from okno.people.tests.factories import DepartmentFactory

    sales = DepartmentFactory(name="Продажи")
    client.force_login(admin_user)
    # when
    answer = client.post("/robots/new/?leads=1&kind=deadline", {
        "kind": "deadline", "is_active": "on", "scope_department": sales.pk, "deadline_mode": "within",
        "within_amount": "15", "within_unit": "M", "time": "working", "escalation": "notify_head"})
    # then
    assert answer.status_code == 302, answer.content.decode()[:2000]
    robot = Robot.objects.get()
    assert robot.for_leads and robot.department == sales and robot.within == "PT15M"
    assert robot.escalation == "notify_head"
    assert client.get("/robots/leads/").status_code == 200
