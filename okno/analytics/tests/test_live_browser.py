"""A live report in a real browser: the head's open calls report counts a call within 2 s of its
end, with no reload."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from okno.analytics import live
from okno.analytics.tests.factories import pbx
from okno.people.models import User
from okno.people.tests.factories import DepartmentFactory, UserFactory
from okno.telephony.calls import CallFact, call_fact_record
from okno.telephony.models import PbxExtension

pytestmark = pytest.mark.browser


def test_the_open_report_counts_a_call_that_just_ended(logged_in_page, settings):
    settings.OKNO_PUSH_POLL_SECONDS = 0.1
    live.live_forget()
    # given a head of sales with today's calls report open, and Anna of sales on extension 101
    sales = DepartmentFactory(name="Продажи")
    head = UserFactory(role=User.Role.HEAD, department=sales, language="ru")
    anna = UserFactory(department=sales, first_name="Анна", last_name="А")
    channel = pbx()
    PbxExtension.objects.create(channel=channel, code="101", user=anna)
    today = timezone.localdate().isoformat()
    page = logged_in_page(head)
    page.set_default_timeout(30_000)  # opening the page on a loaded machine; the live part has 2 s below
    with page.expect_response("**/reports/live/watch"):
        page.goto(f"/reports/calls/?from={today}&to={today}&group_by=employee", wait_until="domcontentloaded")
    page.wait_for_selector("#notices[data-connected]", state="attached")
    calls = page.locator("#report-totals td:nth-child(2)")
    expect(calls).to_have_text("0")
    live.live_forget()  # the viewers the page just announced are read at once
    # when Anna's call ends at the PBX
    at = timezone.now() - timedelta(minutes=2)
    call_fact_record(channel=channel, fact=CallFact(call_id="b1", kind="start", at=at, direction="in",
                                                    customer="+79161234567", leg="b1.1"))
    call_fact_record(channel=channel, fact=CallFact(call_id="b1", kind="answer", at=at + timedelta(seconds=5),
                                                    leg="b1.1", extension="101"))
    call_fact_record(channel=channel, fact=CallFact(call_id="b1", kind="end", at=timezone.now(), leg="b1.1",
                                                    extension="101", outcome="answered"))
    # then, from the end's commit, the open report counts it within 2 s, with no reload
    expect(calls).to_have_text("1", timeout=2_000)
    expect(page.locator("#report-table")).to_contain_text("Анна")
    badge = page.locator("#report-live")
    expect(badge).to_contain_text(badge.get_attribute("data-updated"))  # "updated live at <time>"
