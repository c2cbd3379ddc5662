"""The navigation shell in a real browser: the sidebar with its counters, the home page, a lead
converted from its row, and the sidebar behind the menu button on a phone; in both languages."""

import re

import pytest
from playwright.sync_api import expect

from okno.contacts.tests.factories import make_contact
from okno.deals.models import Deal, Lead
from okno.deals.tests.factories import LostReasonFactory, PipelineFactory
from okno.people.tests.factories import UserFactory

pytestmark = pytest.mark.browser
SHOTS = None  # set to a folder to keep screenshots while working on the layout


def _manager_with_a_new_lead(language: str):
    manager = UserFactory(language=language)
    contact = make_contact(actor=manager, first_name="Ольга", last_name="Смирнова")
    lead = Lead.objects.create(contact=contact, assignee=manager, department=manager.department, title="Хочу диван")
    PipelineFactory(name="Заказы")
    return manager, lead


@pytest.mark.parametrize("language, my_leads", [("en", "My leads"), ("ru", "Мои лиды")])
def test_sidebar_home_and_convert_from_the_row(logged_in_page, language, my_leads):
    # given a manager with one new lead and a pipeline
    manager, lead = _manager_with_a_new_lead(language)
    page = logged_in_page(manager)
    # when they open the home page
    page.goto("/")
    # then the sidebar shows their day as current and counts the unread lead, and the day lists it
    sidebar = page.locator("#sidebar")
    expect(sidebar).to_be_visible()
    expect(page.locator("#nav-my-day")).to_have_attribute("aria-current", "page")
    expect(page.locator("#nav-my-leads")).to_contain_text(my_leads)
    expect(page.locator("#nav-my-leads .badge")).to_have_text("1")
    expect(page.locator("#day-leads")).to_contain_text("Хочу диван")
    expect(page.locator("#lead-notifications .badge")).to_have_text("1")  # the live badge polled in
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/home-{language}.png", full_page=True)
    # when they go to their leads through the sidebar and convert the lead in "Заказы"
    page.locator("#nav-my-leads").click()
    page.wait_for_url(re.compile(r"/leads/$"))
    row = page.locator(f"#lead-{lead.pk}")
    row.locator(".lead-convert summary").click()
    row.locator(f"#convert-pipeline-{lead.pk}").select_option(label="Заказы")
    row.locator(".lead-convert button[type=submit]").click()
    # then the deal's page opens and the lead is converted
    page.wait_for_url(re.compile(r"/deals/\d+/$"))
    deal = Deal.objects.get(lead=lead)
    assert page.url.endswith(f"/deals/{deal.pk}/")
    assert Lead.objects.get(pk=lead.pk).status == Lead.Status.CONVERTED
    expect(page.locator("#nav-deals")).to_have_attribute("aria-current", "page")
    expect(page.locator("#nav-my-leads .badge")).to_have_count(0)


def test_on_a_phone_the_sidebar_opens_from_the_menu_button(logged_in_page):
    manager, _ = _manager_with_a_new_lead("ru")
    page = logged_in_page(manager)
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto("/contacts/")
    sidebar_link = page.locator("#nav-my-leads")
    expect(sidebar_link).not_to_be_in_viewport()
    page.locator(".nav-burger").click()
    expect(sidebar_link).to_be_in_viewport()
    if SHOTS:
        page.wait_for_timeout(300)
        page.screenshot(path=f"{SHOTS}/phone-open.png")
    sidebar_link.click()
    page.wait_for_url(re.compile(r"/leads/$"))
    expect(page.locator("h1")).to_have_text("Мои лиды")


def test_close_as_lost_from_the_card(logged_in_page):
    # given a manager's lead on a card, and the list of lost reasons
    manager, lead = _manager_with_a_new_lead("ru")
    LostReasonFactory(name="Дорого")
    page = logged_in_page(manager)
    # when the card is opened, its open leads load in, and the lead is closed as lost "Дорого"
    page.goto(f"/contacts/{lead.contact_id}/")
    panel = page.locator("#card-leads")
    expect(panel).to_contain_text("Хочу диван")
    panel.locator(".lead-lose summary").click()
    panel.locator(f"#lose-reason-{lead.pk}").select_option(label="Дорого")
    panel.locator(".lead-lose button[type=submit]").click()
    # then the card comes back without the open lead, and the lead is lost with that reason
    page.wait_for_url(re.compile(rf"/contacts/{lead.contact_id}/$"))
    expect(page.locator(".messages")).to_contain_text("Дорого")
    expect(page.locator("#card-leads")).not_to_contain_text("Хочу диван")
    lead.refresh_from_db()
    assert lead.status == Lead.Status.LOST and lead.lost_reason.name == "Дорого"
