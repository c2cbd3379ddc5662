"""The new-contact form in a real browser: the duplicate warning appears while typing."""

import re

import pytest
from playwright.sync_api import expect

from okno.contacts.models import Contact
from okno.contacts.tests.factories import make_contact
from okno.people.tests.factories import UserFactory

pytestmark = pytest.mark.browser


def test_typing_a_known_phone_in_another_format_warns_and_save_anyway_creates(logged_in_page):
    # given a customer with a phone, and a manager of the same department
    manager = UserFactory(language="en")
    existing = make_contact(actor=manager, first_name="Иван", last_name="Петров", phones=["+7 916 123-45-67"])
    page = logged_in_page(manager)

    # when the manager types that phone in another format into the new-contact form
    page.goto("/contacts/new/")
    page.fill("#id_first_name", "Ваня")
    page.locator("input[name=phones]").first.press_sequentially("8 (916) 123-45-67", delay=20)

    # then the warning names the existing card, says why, and links to it
    warning = page.locator("#duplicate-warning")
    expect(warning).to_contain_text("This customer may already exist")
    expect(warning).to_contain_text("Петров Иван")
    expect(warning).to_contain_text("same phone +7 916 123-45-67")
    expect(warning.locator(f'a[href="/contacts/{existing.pk}/"]')).to_be_visible()

    # when the manager saves anyway
    page.click("#save-contact")

    # then a second card exists with the phone in E.164, and its card shows the possible duplicate
    page.wait_for_url(re.compile(r"/contacts/\d+/$"))
    created = Contact.objects.exclude(pk=existing.pk).get()
    assert page.url.endswith(f"/contacts/{created.pk}/")
    assert created.first_name == "Ваня"
    assert list(created.phones.values_list("e164", flat=True)) == ["+79161234567"]
    assert created.responsible_id == manager.pk
    expect(page.locator("#card-duplicates")).to_contain_text("Петров Иван")


def test_typing_an_unknown_phone_shows_no_warning(logged_in_page):
    # given a customer with another phone
    manager = UserFactory(language="en")
    make_contact(actor=manager, first_name="Иван", last_name="Петров", phones=["+7 916 123-45-67"])
    page = logged_in_page(manager)

    # when a different number is typed
    page.goto("/contacts/new/")
    with page.expect_response(re.compile(r"/contacts/new/check-duplicates/")):
        page.locator("input[name=phones]").first.press_sequentially("8 (903) 765-43-21", delay=20)

    # then the warning stays empty
    expect(page.locator("#duplicate-warning")).to_be_empty()
