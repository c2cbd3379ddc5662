"""The screen live in a real browser: an inbound call from the current item's customer pops over
the item (marked as that customer's), and an item landing in the queue updates the counters,
both without a reload."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from okno.inbox.drain import inbound_drain
from okno.people.models import User
from okno.people.tests.factories import UserFactory
from okno.telephony.tests.test_mango import LINE, call_event, post
from okno.work.booking import workitem_create
from okno.work.tests.factories import make_item
from okno.work.tests.screen_factories import customer_with_world, line_with_manager, record_originates

pytestmark = pytest.mark.browser


def test_a_call_from_the_current_customer_pops_over_the_item_and_new_items_count_live(
        logged_in_page, settings, client, monkeypatch):
    settings.OKNO_PUSH_POLL_SECONDS = 0.05
    # given: the manager's screen with the item of Ivan Petrov open (the call placed by itself)
    sales, mango, manager = line_with_manager(language="en")
    card, _deal, _invoice = customer_with_world(manager, phone="+7 495 540-44-44")
    item = make_item(kind="follow_up", contact=card, assignee=manager, department=sales)
    record_originates(monkeypatch)
    page = logged_in_page(manager)
    page.goto("/work/screen/")
    page.wait_for_selector("#screen-pop[data-connected]", state="attached")
    page.click("#screen-next")
    expect(page.locator("#screen-current")).to_have_attribute("data-item-id", str(item.pk))
    expect(page.locator("#screen-counters")).to_contain_text("1 due now")  # the open item itself

    # when: Ivan calls the manager's extension
    to_101 = {"extension": "101", "number": "74951234567", **LINE}
    post(client, mango, "events/call", call_event(3, "Appeared", "abonent", at=10, frm={"number": "74955404444"},
                                                  to=to_101, leg="c9"))
    inbound_drain()
    # then: the pop shows over the screen, as the current item's customer; the item stays open
    pop = page.locator("#screen-pop")
    expect(pop).to_be_visible(timeout=5_000)
    expect(pop.locator("a.pop-open")).to_have_attribute("href", f"/contacts/{card.pk}/")
    expect(pop).to_have_class(re.compile(r"\bpop-current-customer\b"), timeout=5_000)
    expect(page.locator("#screen-current")).to_have_attribute("data-item-id", str(item.pk))

    # when: the head puts a callback into the department's queue
    head = UserFactory(department=sales, role=User.Role.HEAD)
    workitem_create(actor=head, data={"kind": "callback", "department_id": sales.pk,
                                      "due_at": timezone.now().isoformat()})
    # then: the counters say so within seconds, without a reload (the 15 s poll is not what does it)
    expect(page.locator("#screen-counters")).to_contain_text("2 due now", timeout=6_000)
