"""My work in a real browser: an overdue callback shows on the card and in My work with a red
counter; Done on the card closes it and the counter goes."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from okno.contacts.tests.factories import make_contact
from okno.people.tests.factories import DepartmentFactory, UserFactory
from okno.work.models import WorkItem

pytestmark = pytest.mark.browser


def test_an_overdue_callback_is_seen_and_closed_from_the_card(logged_in_page):
    # given: an overdue callback on Olga's card, responsible Anna
    anna = UserFactory(language="en", department=DepartmentFactory(name="Sales"))
    olga = make_contact(first_name="Olga", last_name="Customer", phones=["+79161234567"], actor=anna)
    item = WorkItem.objects.create(kind=WorkItem.Kind.CALLBACK, number="+79161234567", contact=olga, assignee=anna,
                                   department=anna.department, due_at=timezone.now() - timedelta(minutes=30))
    page = logged_in_page(anna)

    # when: Anna opens My work
    page.goto("/work/")
    # then: the item is listed and the sidebar counts it in red
    expect(page.locator(f"#work-item-{item.pk}")).to_contain_text("overdue")
    expect(page.locator("#nav-my-work .badge")).to_have_text("1")

    # when: she opens the card and presses Done in its Open work panel
    page.goto(f"/contacts/{olga.pk}/")
    panel_item = page.locator(f"#card-work #work-item-{item.pk}")
    expect(panel_item).to_contain_text("+79161234567")
    panel_item.get_by_role("button", name="Done").click()

    # then: back on the card, nothing open, no counter, and the item is closed
    expect(page.locator("#card-work")).not_to_contain_text("+79161234567")
    expect(page.locator("#nav-my-work .badge")).to_have_count(0)
    item.refresh_from_db()
    assert item.status == WorkItem.Status.DONE
