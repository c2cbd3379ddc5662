"""The Reports > Calls page: renders for whoever may see it, exports exactly the table; the
report settings form."""

import csv
import io

import pytest
from django.test import Client
from openpyxl import load_workbook

from okno.analytics.calls_report import calls_query_parse, calls_report
from okno.analytics.models import AnalyticsSettings, DepartmentThreshold
from okno.analytics.table import flat, headers, report_table
from okno.analytics.tests.factories import local, make_call
from okno.people.tests.factories import DepartmentFactory, UserFactory

URL = "/reports/calls/"
PARAMS = {"from": "2026-11-01", "to": "2026-11-30", "group_by": "employee", "compare": "previous"}


@pytest.fixture
def calls(db):
    sales = DepartmentFactory(name="Продажи")
    anna = UserFactory(department=sales, first_name="=Анна", last_name="Формулова")  # a label that looks like a formula
    boris = UserFactory(department=sales, first_name="Борис", last_name="Б")
    for day, who, talk in (("2026-11-02", anna, 61), ("2026-11-03", anna, 10), ("2026-11-03", boris, 125),
                           ("2026-10-15", anna, 30)):
        make_call(at=local(day, 10), employee=who, talk=talk)
    make_call(at=local("2026-11-04", 10), employee=boris, outcome="missed")
    return {"anna": anna, "boris": boris}


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_page_shows_the_table_with_the_previous_period_and_the_charts(admin_user, calls):
    # when an administrator opens the report
    response = signed_in(admin_user).get(URL, PARAMS)
    # then the table holds each employee, the totals and the comparison, and the charts' own script
    assert response.status_code == 200
    html = response.content.decode()
    assert calls["anna"].display_name in html and calls["boris"].display_name in html
    assert 'id="report-totals"' in html
    assert "up-good" in html or "up-bad" in html
    assert "analytics/echarts.min.js" in html and 'id="report-chart-data"' in html
    assert 'id="nav-report-calls"' in html  # under Reports in the sidebar


def test_a_manager_sees_only_their_own_figures_on_the_page(calls):
    html = signed_in(calls["boris"]).get(URL, PARAMS).content.decode()
    assert calls["boris"].display_name in html
    assert calls["anna"].display_name not in html


def test_bad_input_on_the_page_names_the_field(admin_user, calls):
    response = signed_in(admin_user).get(URL, {**PARAMS, "group_by": "weekday"})
    assert response.status_code == 422
    assert "group_by" in response.content.decode()


def test_the_default_period_is_this_month(admin_user, calls):
    response = signed_in(admin_user).get(URL)
    assert response.status_code == 200
    assert 'id="report-periods"' in response.content.decode()


def _table(user, unit="min"):
    query = calls_query_parse(PARAMS)
    rows, totals = report_table(calls_report(user=user, query=query), unit=unit)
    return [headers(unit=unit, compared=True), *(flat(r, compared=True) for r in rows), flat(totals, compared=True)]


def test_the_csv_export_is_the_table(admin_user, calls, settings):
    # given English (a "." decimal point) and hours as the unit
    settings.LANGUAGE_CODE = "en"
    # when the CSV is downloaded
    response = signed_in(admin_user).get(URL, {**PARAMS, "unit": "h", "format": "csv"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    text = response.content.decode("utf-8-sig")
    got = list(csv.reader(io.StringIO(text), delimiter=";"))
    # then every cell is the table's, and a label starting with "=" is escaped
    want = [["" if v is None else str(v) for v in line] for line in _table(admin_user, unit="h")]
    want = [[("'" + v) if v.startswith("=") else v for v in line] for line in want]
    assert got == want
    assert any(line[0].startswith("'=") for line in got)


def test_the_xlsx_export_is_the_table(admin_user, calls):
    response = signed_in(admin_user).get(URL, {**PARAMS, "format": "xlsx"})
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    got = [list(row) for row in book.active.iter_rows(values_only=True)]
    want = _table(admin_user)
    assert [[str(v) for v in line] for line in got[:1]] == [[str(v) for v in want[0]]]
    assert got[1:] == want[1:]
    assert book.active.cell(row=2, column=1).data_type == "s"  # "=Анна…" is text, not a formula


def test_an_administrator_edits_the_settings_in_a_form(admin_user):
    # given a department
    support = DepartmentFactory(name="Поддержка")
    client = signed_in(admin_user)
    assert "Поддержка" in client.get("/reports/settings/").content.decode()
    # when the form is sent
    response = client.post("/reports/settings/", {"success_threshold_seconds": "25", "callback_window_minutes": "15",
                                                   f"department_{support.pk}": "40"})
    # then the settings are stored
    assert response.status_code == 302
    conf = AnalyticsSettings.objects.get(pk=1)
    assert (conf.success_threshold_seconds, conf.callback_window_minutes) == (25, 15)
    assert DepartmentThreshold.objects.get(department=support).success_threshold_seconds == 40
    # and a negative threshold is refused on its field, nothing saved
    response = client.post("/reports/settings/", {"success_threshold_seconds": "-1", "callback_window_minutes": "15"})
    assert response.status_code == 400
    assert AnalyticsSettings.objects.get(pk=1).success_threshold_seconds == 25


def test_a_manager_may_not_open_the_settings(calls):
    assert signed_in(calls["anna"]).get("/reports/settings/").status_code == 403
