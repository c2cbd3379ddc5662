"""The kanban board in a real browser: dragging a card to another column moves the deal; a
move the stage refuses puts the card back and names the missing field."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from okno.deals.models import Deal
from okno.deals.tests.factories import DealFactory, PipelineFactory, PipelineFieldFactory, stage_of
from okno.people.tests.factories import UserFactory

pytestmark = pytest.mark.browser


def test_drag_a_card_to_another_column_then_a_refused_drop_returns_it(logged_in_page):
    # given a pipeline whose "Подтверждён" stage requires a delivery date, and a deal in "Новый"
    manager = UserFactory(language="en")
    pipeline = PipelineFactory(name="Orders")
    PipelineFieldFactory(pipeline=pipeline, key="delivery_date", label="Delivery date", type="date")
    new, paused, confirmed = stage_of(pipeline), stage_of(pipeline, "paused"), stage_of(pipeline, nth=1)
    confirmed.required_fields = ["delivery_date"]
    confirmed.save()
    deal = DealFactory(pipeline=pipeline, responsible=manager, title="Sofa", amount=Decimal("1500.00"))
    page = logged_in_page(manager)
    page.goto(f"/pipelines/{pipeline.pk}/board/")
    card = page.locator(f"#deal-card-{deal.pk}")
    column = lambda stage: page.locator(f'.board-column[data-stage-id="{stage.pk}"]')  # noqa: E731
    expect(column(new).locator(".deal-card")).to_have_count(1)

    # when the card is dragged onto the "Пауза" column
    with page.expect_response(lambda r: r.url.endswith(f"/deals/{deal.pk}/move/")) as moved:
        card.drag_to(column(paused).locator(".column-cards"))
    assert moved.value.status == 200

    # then it sits there, the counts and sums follow, and the deal moved in the database
    expect(column(paused).locator(f"#deal-card-{deal.pk}")).to_be_visible()
    expect(column(paused).locator(".column-count")).to_have_text("1")
    expect(column(new).locator(".column-count")).to_have_text("0")
    expect(column(paused).locator(".column-total")).to_contain_text("1,500.00")
    assert Deal.objects.get(pk=deal.pk).stage_id == paused.pk

    # when it is dragged onto "Подтверждён", whose delivery date is empty
    with page.expect_response(lambda r: r.url.endswith(f"/deals/{deal.pk}/move/")) as refused:
        page.locator(f"#deal-card-{deal.pk}").drag_to(column(confirmed).locator(".column-cards"))
    assert refused.value.status == 400

    # then the message names the field and the card is back in "Пауза"
    expect(page.locator("#board-message")).to_contain_text("Delivery date")
    expect(column(paused).locator(f"#deal-card-{deal.pk}")).to_be_visible()
    expect(column(confirmed).locator(".deal-card")).to_have_count(0)
    assert Deal.objects.get(pk=deal.pk).stage_id == paused.pk
