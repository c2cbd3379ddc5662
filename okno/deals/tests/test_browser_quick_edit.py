"""Quick fields in a real browser: on the board, a card's delivery date and comment are edited
in place (click, type, save; Escape puts the value back) and a refused value shows its reason
beside the field while the stored one stays."""

import pytest
from playwright.sync_api import expect

from okno.deals.models import Deal
from okno.deals.tests.factories import DealFactory, PipelineFactory, PipelineFieldFactory
from okno.people.tests.factories import UserFactory

pytestmark = pytest.mark.browser


def test_edit_a_cards_delivery_date_and_comment_in_place_on_the_board(logged_in_page):
    # given an order pipeline with the stores' quick fields, and a deal with a delivery date
    manager = UserFactory(language="en")
    pipeline = PipelineFactory(name="Orders")
    PipelineFieldFactory(pipeline=pipeline, key="delivery_date", label="Delivery date", type="date")
    PipelineFieldFactory(pipeline=pipeline, key="comment", label="Comment", type="text")
    deal = DealFactory(pipeline=pipeline, responsible=manager, title="Sofa",
                       custom={"delivery_date": "2026-12-06", "comment": "Call first"})
    page = logged_in_page(manager)
    page.set_default_navigation_timeout(30_000)  # the first page of a live server on a busy machine
    page.goto(f"/pipelines/{pipeline.pk}/board/")
    date_field = page.locator(f"#quick-card-{deal.pk}-delivery_date")
    expect(date_field).to_contain_text("6 Dec 2026")

    # when the date is clicked, changed and saved
    date_field.locator(".quick-value").click()
    date_input = page.locator(f"#quick-card-{deal.pk}-delivery_date input[name=value]")
    expect(date_input).to_be_focused()
    date_input.fill("2026-12-08")
    with page.expect_response(lambda r: r.url.endswith(f"/deals/{deal.pk}/quick/delivery_date/")) as saved:
        page.locator(f"#quick-card-{deal.pk}-delivery_date button[type=submit]").click()
    assert saved.value.status == 200

    # then the card shows the new date in place, and the deal holds it
    expect(page.locator(f"#quick-card-{deal.pk}-delivery_date .quick-value")).to_have_text("8 Dec 2026")
    assert Deal.objects.get(pk=deal.pk).custom["delivery_date"] == "2026-12-08"

    # when the comment is opened, typed over, and Escape is pressed
    page.locator(f"#quick-card-{deal.pk}-comment .quick-value").click()
    comment = page.locator(f"#quick-card-{deal.pk}-comment textarea")
    # htmx binds the form's Escape key when the swap settles (~20 ms later), and it focuses the
    # autofocus field then too: waiting for the focus waits for the binding (CI pressed Escape first)
    expect(comment).to_be_focused()
    comment.fill("Leave at the door")
    comment.press("Escape")
    # then the stored comment is back and nothing changed
    expect(page.locator(f"#quick-card-{deal.pk}-comment .quick-value")).to_have_text("Call first")
    assert Deal.objects.get(pk=deal.pk).custom["comment"] == "Call first"

    # when a date the field does not take reaches the server (typed where the browser's date input is not used)
    page.locator(f"#quick-card-{deal.pk}-delivery_date .quick-value").click()
    date_input = page.locator(f"#quick-card-{deal.pk}-delivery_date input[name=value]")
    expect(date_input).to_be_focused()
    date_input.evaluate("input => { input.type = 'text'; }")
    date_input.fill("31.02.2026")
    with page.expect_response(lambda r: r.url.endswith(f"/deals/{deal.pk}/quick/delivery_date/")) as refused:
        date_input.press("Enter")
    assert refused.value.status == 422

    # then the reason is beside the field, naming it, and the stored date is kept
    error = page.locator(f"#quick-card-{deal.pk}-delivery_date .field-error")
    expect(error).to_contain_text("Delivery date")
    expect(error).to_contain_text("YYYY-MM-DD")
    assert Deal.objects.get(pk=deal.pk).custom["delivery_date"] == "2026-12-08"
    # and Cancel shows the stored value again (once the swapped-in form has settled and focused its field)
    expect(page.locator(f"#quick-card-{deal.pk}-delivery_date input[name=value]")).to_be_focused()
    page.locator(f"#quick-card-{deal.pk}-delivery_date .quick-cancel").click()
    expect(page.locator(f"#quick-card-{deal.pk}-delivery_date .quick-value")).to_have_text("8 Dec 2026")
