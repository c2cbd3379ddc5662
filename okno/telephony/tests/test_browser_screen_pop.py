"""Screen pop in a real browser: the PBX rings a manager's extension, their open page shows the card."""

import pytest
from playwright.sync_api import expect

from okno.contacts.tests.factories import make_contact
from okno.inbox.drain import inbound_drain
from okno.inbox.tests.factories import make_channel
from okno.people.tests.factories import DepartmentFactory, UserFactory
from okno.telephony.models import PbxExtension
from okno.telephony.tests.test_mango import CUSTOMER, KEY, LINE, SALT, call_event, post

pytestmark = pytest.mark.browser


def _line_with_a_manager_and_a_customer():
    sales = DepartmentFactory(name="Продажи")
    mango = make_channel(kind="mango", name="Mango", department=sales, settings={"api_key": KEY, "api_salt": SALT})
    manager = UserFactory(department=sales, language="en")
    PbxExtension.objects.create(channel=mango, code="101", user=manager)
    card = make_contact(actor=manager, first_name="Иван", last_name="Петров", phones=["+7 495 540-44-44"])
    return mango, manager, card


def test_ringing_extension_pops_the_card_on_the_open_page(logged_in_page, settings, client):
    settings.OKNO_PUSH_POLL_SECONDS = 0.05
    mango, manager, card = _line_with_a_manager_and_a_customer()
    page = logged_in_page(manager)
    page.goto("/contacts/")
    expect(page.locator("#screen-pop")).to_be_hidden()
    # the stream is open before the call rings
    page.wait_for_selector("#screen-pop[data-connected]", state="attached")

    to_101 = {"extension": "101", "number": "74951234567", **LINE}
    post(client, mango, "events/call", call_event(3, "Appeared", "abonent", at=10, frm=CUSTOMER, to=to_101, leg="c2"))
    inbound_drain()

    pop = page.locator("#screen-pop")
    expect(pop).to_be_visible(timeout=5_000)
    expect(pop).to_contain_text("Incoming call")
    expect(pop.locator("a.pop-open")).to_have_attribute("href", f"/contacts/{card.pk}/")
    pop.locator("a.pop-open").click()
    expect(page.locator("h1")).to_contain_text("Петров")


def test_a_call_placed_from_the_card_appears_on_its_timeline_live(logged_in_page, settings, client):
    settings.OKNO_PUSH_POLL_SECONDS = 0.05
    mango, manager, card = _line_with_a_manager_and_a_customer()
    page = logged_in_page(manager)
    page.goto(f"/contacts/{card.pk}/")
    page.wait_for_selector("#screen-pop[data-connected]", state="attached")
    expect(page.locator("#card-tab")).not_to_contain_text("Mango")

    # the PBX reports the manager's call to the customer, answered
    out = {"extension": "101"}, {"number": "74955404444"}
    for seq, state in ((1, "Appeared"), (2, "Connected")):
        post(client, mango, "events/call", call_event(seq, state, "abonent", at=seq, frm=out[0], to=out[1]))
    inbound_drain()

    # the timeline shows the call without a reload
    expect(page.locator("#card-tab")).to_contain_text("Mango", timeout=5_000)
