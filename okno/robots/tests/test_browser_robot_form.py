"""The robot form in a real browser: only the chosen trigger's and action's fields show."""

import pytest
from playwright.sync_api import expect

from okno.people.models import User
from okno.people.tests.factories import UserFactory
from okno.robots.models import Robot
from okno.robots.tests.factories import make_robot, stages, store_pipeline

pytestmark = pytest.mark.browser


def test_choose_a_trigger_and_an_action_then_save(logged_in_page, tmp_path):
    # given
    admin = UserFactory(role=User.Role.ADMIN, language="en")
    pipeline = store_pipeline()
    new, paused = stages(pipeline)[:2]
    make_robot(stage_id=new.pk, kind="deadline", within="PT30M", name="Within 30 minutes")
    page = logged_in_page(admin)
    page.goto(f"/robots/pipelines/{pipeline.pk}/")
    expect(page.locator("#robot-board")).to_contain_text("Within 30 minutes")
    page.screenshot(path=str(tmp_path / "pipeline.png"), full_page=True)
    page.goto(f"/robots/new/?stage={new.pk}&kind=action")
    # when: "after a delay" and "move to a stage" are chosen
    expect(page.locator("#id_after_amount")).to_be_hidden()
    page.select_option("#id_trigger", "after")
    expect(page.locator("#id_after_amount")).to_be_visible()
    page.fill("#id_after_amount", "2")
    page.select_option("#id_action", "move_to_stage")
    expect(page.locator("#id_stage")).to_be_visible()
    expect(page.locator("#id_template")).to_be_hidden()
    page.select_option("#id_stage", str(paused.pk))
    expect(page.locator("#id_is_active")).to_be_checked()
    page.screenshot(path=str(tmp_path / "form.png"), full_page=True)
    page.click("button[type=submit].btn-primary")
    # then
    expect(page.locator("#robot-board")).to_be_visible()
    robot = Robot.objects.get(kind="action")
    assert robot.trigger_params == {"after": "PT2H", "time": "working"}
    assert robot.action_params == {"stage_id": paused.pk}
