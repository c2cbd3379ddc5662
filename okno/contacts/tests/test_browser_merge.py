"""Merging two cards in a real browser, and undoing it."""

import re

import pytest
from playwright.sync_api import expect

from okno.contacts.models import Contact, ContactMerge
from okno.contacts.tests.factories import make_contact
from okno.people.tests.factories import UserFactory

pytestmark = pytest.mark.browser


def test_merge_two_cards_choosing_a_field_then_undo(logged_in_page):
    # given two cards of one customer, seen by a manager
    manager = UserFactory(language="en")
    first = make_contact(actor=manager, first_name="Иван", last_name="Петров", city="Москва",
                         phones=["+7 916 123-45-67"])
    second = make_contact(actor=manager, first_name="Ваня", last_name="Петров",
                          phones=["+7 903 000-00-01"], emails=["v@example.com"])
    page = logged_in_page(manager)

    # when the manager opens the merge page, keeps the second card but takes the first card's name
    page.goto(f"/contacts/merge/?ids={first.pk},{second.pk}")
    page.check(f"#keep-{second.pk}")
    page.check(f"#field-first_name-{first.pk}")
    page.click("#merge-submit")

    # then the kept card opens with a notice and an Undo button
    page.wait_for_url(re.compile(rf"/contacts/{second.pk}/$"))
    expect(page.locator("#merge-done")).to_be_visible()
    expect(page.locator("h1")).to_contain_text("Иван")
    expect(page.get_by_text("+7 916 123-45-67")).to_be_visible()
    # and the database holds one card with both phones and the chosen name
    kept = Contact.objects.get(pk=second.pk)
    assert (kept.first_name, kept.city) == ("Иван", "Москва")
    assert sorted(kept.phones.values_list("e164", flat=True)) == ["+79030000001", "+79161234567"]
    assert Contact.objects.get(pk=first.pk).merged_into_id == second.pk
    # and the merged-away card's address sends the browser to the kept card
    gone = page.request.get(f"/contacts/{first.pk}/", max_redirects=0)
    assert gone.status == 302 and gone.headers["location"] == f"/contacts/{second.pk}/"

    # when the manager presses Undo
    page.click("#merge-undo")

    # then both cards are separate again, as they were
    expect(page.locator(".messages")).to_contain_text("Merge undone")
    assert ContactMerge.objects.get().undone_at is not None
    assert Contact.objects.filter(status=Contact.Status.ACTIVE).count() == 2
    restored = Contact.objects.get(pk=second.pk)
    assert (restored.first_name, restored.city) == ("Ваня", "")
    assert list(Contact.objects.get(pk=first.pk).phones.values_list("e164", flat=True)) == ["+79161234567"]
