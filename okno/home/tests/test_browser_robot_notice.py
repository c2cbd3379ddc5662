"""A robot's notice reaches the responsible's open page live, on any page, without a reload."""

import pytest
from playwright.sync_api import expect

from okno.people.tests.factories import UserFactory
from okno.push.services import push_send

pytestmark = pytest.mark.browser


def test_a_robots_notice_shows_on_the_open_page_and_closes(logged_in_page, settings):
    settings.OKNO_PUSH_POLL_SECONDS = 0.05
    # given a manager with no telephone (no screen pop) on their deals page
    manager = UserFactory(language="ru")
    page = logged_in_page(manager)
    page.goto("/contacts/")
    page.wait_for_selector("#notices[data-connected]", state="attached")
    # when a robot notifies them (the robots' action writes this push)
    push_send(user_ids=[manager.pk], kind="robot", key="run-1",
              payload={"title": "Сделка «Заказ 1042» просрочена", "text": "Срок: 30 мин", "url": "/deals/"})
    # then the notice shows with a link, and closes
    note = page.locator("#notices .notice")
    expect(note).to_be_visible(timeout=5_000)
    expect(note.locator("a")).to_have_text("Сделка «Заказ 1042» просрочена")
    expect(note.locator("a")).to_have_attribute("href", "/deals/")
    expect(note).to_contain_text("Срок: 30 мин")
    note.locator("button").click()
    expect(page.locator("#notices .notice")).to_have_count(0)
