"""A manager's run of 20 items in a real browser: each is one click to take (Next), the call starts
by itself (the PBX adapter is asked to place it), one click to close (Done)."""

import pytest
from playwright.sync_api import expect

from okno.telephony.click_to_call import call_requests_drain
from okno.telephony.models import CallRequest
from okno.work.models import DepartmentWorkSettings, WorkItem
from okno.work.tests.screen_factories import customer_with_world, line_with_manager, queue_of, record_originates

pytestmark = pytest.mark.browser
RUN = 20


def test_a_run_of_twenty_items_one_click_to_take_one_to_close(logged_in_page, monkeypatch):
    # given: a manager with an extension and 20 due follow-ups; wrap-up long enough that Next is clicked
    sales, _mango, manager = line_with_manager(language="en")
    DepartmentWorkSettings.objects.create(department=sales, wrap_up_seconds=600)
    items = queue_of(manager, sales, RUN)
    placed = record_originates(monkeypatch)
    page = logged_in_page(manager)
    page.goto("/work/screen/")
    expect(page.locator("#screen-counters")).to_contain_text(f"{RUN} due now")
    for n, item in enumerate(items, start=1):
        # when: one click takes the next item
        page.click("#screen-next")
        current = page.locator("#screen-current")
        expect(current).to_have_attribute("data-item-id", str(item.pk))
        expect(current.locator("h2")).to_contain_text(f"Клиент{n - 1}")
        # then: the call started by itself: queued on opening, placed through the PBX adapter
        expect(page.locator("#screen-call [data-outcome]")).to_have_attribute("data-outcome", "pending")
        assert call_requests_drain() == 1 and len(placed) == n
        assert placed[-1]["extension"] == "101" and placed[-1]["number"] == item.contact.phones.get().e164
        expect(page.locator("#screen-next")).to_be_disabled()  # an item on a call is closed first
        # when: one click closes it
        page.click("#outcome-done")
        expect(page.locator("#screen-wrap-up")).to_be_visible()
        expect(page.locator("#screen-state")).to_contain_text("wrap-up")
    # then: all 20 closed by this manager, 20 calls placed, nothing left
    assert WorkItem.objects.filter(pk__in=[i.pk for i in items], status=WorkItem.Status.DONE).count() == RUN
    assert CallRequest.objects.filter(requested_by=manager).count() == RUN
    page.click("#screen-next")
    expect(page.locator("#screen-empty")).to_contain_text("Nothing is due now")
    expect(page.locator("#screen-counters")).to_contain_text("0 due now")


def test_the_items_world_and_not_interested_losing_a_deal_in_the_browser(logged_in_page, monkeypatch):
    from okno.deals.models import Stage
    from okno.deals.tests.factories import LostReasonFactory
    from okno.work.tests.factories import make_item

    sales, _mango, manager = line_with_manager(language="en")
    card, deal, invoice = customer_with_world(manager)
    LostReasonFactory(name="Дорого")
    item = make_item(kind="task", contact=card, deal=deal, assignee=manager, department=sales)
    record_originates(monkeypatch)
    page = logged_in_page(manager)
    page.goto("/work/screen/")
    page.click("#screen-next")
    expect(page.locator("#screen-deals")).to_contain_text("Групповые занятия")
    expect(page.locator(f'[data-invoice-id="{invoice.pk}"]')).to_contain_text("partly paid")
    # a payment typed in on the screen pays the invoice off
    page.fill(f"#pay-{invoice.pk}", "20000")
    page.click(f'[data-invoice-id="{invoice.pk}"] button')
    expect(page.locator(f'[data-invoice-id="{invoice.pk}"] [data-status]')).to_have_attribute("data-status", "paid")
    # the card edited in place
    page.click("#screen-contact-edit")
    page.fill("input[name=city]", "Казань")
    page.click("#screen-contact-save")
    expect(page.locator("#screen-contact")).to_contain_text("Казань")
    # not interested, with a reason: the item's deal is lost
    page.select_option("#screen-lost-reason", label="Дорого")
    page.click("#outcome-not-interested")
    expect(page.locator("#screen-wrap-up")).to_be_visible()
    deal.refresh_from_db()
    item.refresh_from_db()
    assert deal.stage.kind == Stage.Kind.LOST and item.status == WorkItem.Status.DONE
