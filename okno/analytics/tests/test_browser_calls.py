"""The calls report in a real browser: ECharts loads from Okno's own static files and draws both
charts; a quick period button changes the period."""

import os

import pytest
from playwright.sync_api import expect

from okno.analytics.tests.factories import local, make_call
from okno.people.models import User
from okno.people.tests.factories import DepartmentFactory, UserFactory

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("OKNO_SHOTS")  # a folder to keep screenshots while working on the layout


def test_the_report_draws_its_charts_from_local_files(logged_in_page):
    # given two managers' calls in November and October, and an administrator
    sales = DepartmentFactory(name="Продажи")
    people = [UserFactory(department=sales, first_name=n, last_name="Т") for n in ("Анна", "Борис")]
    for i in range(12):
        make_call(at=local(f"2026-11-{1 + i % 9:02d}", 10 + i % 5), employee=people[i % 2], talk=10 + i * 7)
        make_call(at=local(f"2026-10-{1 + i % 9:02d}", 10), employee=people[i % 2], talk=30)
    make_call(at=local("2026-11-03", 9), employee=people[0], outcome="missed")
    admin = UserFactory(role=User.Role.ADMIN, department=None, language="ru")
    page = logged_in_page(admin)
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    # when the report for November is opened
    page.goto("/reports/calls/?from=2026-11-01&to=2026-11-30&compare=previous")
    # then the table and both charts are there, drawn by ECharts from our server only
    expect(page.locator("#report-totals")).to_contain_text("13")
    expect(page.locator("#chart-bars canvas")).to_have_count(1)
    expect(page.locator("#chart-days canvas")).to_have_count(1)
    assert all(url.startswith(page.url.split("/reports/")[0]) for url in requests), requests
    if SHOTS:
        page.wait_for_timeout(1500)  # the charts animate in
        page.screenshot(path=f"{SHOTS}/calls-report.png", full_page=True)
    # when "Today" is pressed
    page.locator("#report-periods a").first.click()
    # then the period is today's
    expect(page.locator("#report-periods a").first).to_have_class("btn btn-primary")
