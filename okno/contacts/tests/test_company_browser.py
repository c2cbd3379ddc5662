"""The company pages in a real browser: a mistyped INN is refused on its field, the saved
company shows its requisites, and the deals panel arrives through htmx."""

import re

import pytest
from playwright.sync_api import expect

from okno.contacts.models import Company
from okno.contacts.tests.factories import make_contact
from okno.deals.tests.factories import DealFactory
from okno.people.tests.factories import UserFactory

pytestmark = pytest.mark.browser


def test_new_company_refuses_a_wrong_inn_then_shows_its_requisites_and_deals(logged_in_page):
    # given a manager
    manager = UserFactory(language="en")
    page = logged_in_page(manager)

    # when they create a company from the companies list with an INN whose check digit is off
    page.goto("/contacts/companies/")
    page.click("text=New company")
    page.fill("#id_name", "ООО Луч")
    page.fill("#id_inn", "7728123458")
    page.fill("#id_phones", "8 (495) 123-45-67")
    page.click("button[type=submit]")

    # then the INN field says why, and what was typed is still there
    expect(page.locator(".field.has-error")).to_contain_text("wrong check digit: not a valid INN")
    expect(page.locator("#id_name")).to_have_value("ООО Луч")

    # when the INN is corrected
    page.fill("#id_inn", "7728123459")
    page.click("button[type=submit]")

    # then the company page shows the INN and the phone as a tel: link
    page.wait_for_url(re.compile(r"/contacts/companies/\d+/$"))
    company = Company.objects.get()
    expect(page.locator("#company-requisites")).to_contain_text("7728123459")
    expect(page.locator('a[href="tel:+74951234567"]')).to_be_visible()

    # and a deal of one of its cards appears in the deals panel, loaded by htmx
    anna = make_contact(actor=manager, first_name="Анна", company="ООО Луч")
    assert anna.company_id == company.pk
    DealFactory(title="Поставка для Луча", contact=anna, responsible=manager)
    page.reload()
    expect(page.locator("#company-deals")).to_contain_text("Поставка для Луча")
    expect(page.locator("#company-contacts")).to_contain_text("Анна")
