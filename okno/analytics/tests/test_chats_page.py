"""Reports > Chats and Reports > Process pages: render in Russian for whoever may see them, export
exactly the table, drill down to the chats behind a figure; the unanswered settings in the form."""

import csv
import io

import pytest
from django.test import Client
from openpyxl import load_workbook

from okno.analytics.chats_report import chats_query_parse, chats_report
from okno.analytics.models import AnalyticsSettings
from okno.analytics.report_tables import column_headers, columns_table
from okno.analytics.table import flat
from okno.analytics.tests.chats_factories import jivo_channel, make_chat
from okno.analytics.tests.factories import local
from okno.analytics.views_chats import COLUMNS
from okno.people.tests.factories import DepartmentFactory, UserFactory

URL = "/reports/chats/"
PARAMS = {"from": "2026-11-01", "to": "2026-11-30", "group_by": "employee", "compare": "previous"}


@pytest.fixture
def chats(db):
    sales = DepartmentFactory(name="Продажи")
    anna = UserFactory(department=sales, first_name="=Анна", last_name="Формулова")  # looks like a formula
    boris = UserFactory(department=sales, first_name="Борис", last_name="Б")
    widget = jivo_channel(department=sales)
    make_chat(channel=widget, at=local("2026-11-02", 10), operator=anna, replies=(30, 45), rating="positive")
    make_chat(channel=widget, at=local("2026-11-03", 10), operator=boris, replies=(15,))
    make_chat(channel=widget, at=local("2026-11-03", 11), replies=())
    make_chat(channel=widget, at=local("2026-10-15", 10), operator=anna, replies=(90,))
    return {"anna": anna, "boris": boris, "widget": widget}


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_page_shows_the_table_in_russian_with_the_charts(admin_user, chats):
    response = signed_in(admin_user).get(URL, PARAMS)
    assert response.status_code == 200
    html = response.content.decode()
    assert chats["boris"].display_name in html and 'id="report-totals"' in html
    assert "Без сотрудника" in html  # Russian by default: the missed chat's row
    assert "analytics/echarts.min.js" in html and "analytics/report_charts.js" in html
    assert 'id="nav-report-chats"' in html and 'id="nav-report-process"' in html
    # each count links to the chats behind it
    assert "/reports/chats/list/?" in html


def test_a_manager_sees_only_their_own_chats(chats):
    html = signed_in(chats["boris"]).get(URL, PARAMS).content.decode()
    assert chats["boris"].display_name in html and chats["anna"].display_name not in html


def test_bad_input_on_the_page_names_the_field(admin_user, chats):
    response = signed_in(admin_user).get(URL, {**PARAMS, "group_by": "line"})
    assert response.status_code == 422 and "group_by" in response.content.decode()
    assert signed_in(admin_user).get(URL).status_code == 200  # this month by default


def _table(user, unit="min"):
    report = chats_report(user=user, query=chats_query_parse(PARAMS))
    rows, totals = columns_table(report, COLUMNS, unit=unit)
    return [column_headers(COLUMNS, unit=unit, compared=True), *(flat(r, compared=True) for r in rows),
            flat(totals, compared=True)]


def test_the_csv_export_is_the_table(admin_user, chats, settings):
    settings.LANGUAGE_CODE = "en"
    response = signed_in(admin_user).get(URL, {**PARAMS, "format": "csv"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    got = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    want = [["" if v is None else str(v) for v in line] for line in _table(admin_user)]
    want = [[("'" + v) if v.startswith("=") else v for v in line] for line in want]
    assert got == want


def test_the_xlsx_export_is_the_table(admin_user, chats):
    response = signed_in(admin_user).get(URL, {**PARAMS, "format": "xlsx"})
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    got = [list(row) for row in book.active.iter_rows(values_only=True)]
    assert got[1:] == _table(admin_user)[1:]


def test_a_figure_drills_down_to_its_chats(admin_user, chats):
    # when the administrator opens Anna's accepted chats of November
    client = signed_in(admin_user)
    response = client.get("/reports/chats/list/", {**PARAMS, "figure": "accepted", "key": chats["anna"].pk})
    # then the one November chat of hers is listed, not October's
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("/contacts/") >= 1 and "1 " in html
    # and the missed ones of the row without an operator
    response = client.get("/reports/chats/list/", {**PARAMS, "figure": "missed", "key": "none"})
    assert "ушёл без ответа" in response.content.decode() or "left unanswered" in response.content.decode()
    # and an unknown figure is a 422 naming it
    response = client.get("/reports/chats/list/", {**PARAMS, "figure": "talk"})
    assert response.status_code == 422 and "figure" in response.content.decode()


def test_the_process_page_renders_and_exports(admin_user, chats):
    client = signed_in(admin_user)
    response = client.get("/reports/process/", {"from": "2026-11-01", "to": "2026-11-30", "compare": "previous"})
    assert response.status_code == 200 and 'id="report-totals"' in response.content.decode()
    assert client.get("/reports/process/", {"from": "2026-11-01", "to": "2026-11-30", "format": "csv"}).status_code \
        == 200
    assert client.get("/reports/process/", {"from": "2026-11-01", "to": "2026-11-30", "group_by": "x"}).status_code \
        == 422


def test_the_settings_form_holds_what_counts_as_unanswered(admin_user):
    client = signed_in(admin_user)
    assert "unanswered_min_stay_seconds" in client.get("/reports/settings/").content.decode()
    response = client.post("/reports/settings/", {"success_threshold_seconds": "20", "callback_window_minutes": "30",
                                                  "unanswered_min_stay_seconds": "90"})
    assert response.status_code == 302
    conf = AnalyticsSettings.objects.get(pk=1)
    assert (conf.unanswered_min_stay_seconds, conf.unanswered_counts_offline) == (90, False)
    response = client.post("/reports/settings/", {"success_threshold_seconds": "20", "callback_window_minutes": "30",
                                                  "unanswered_min_stay_seconds": "-5",
                                                  "unanswered_counts_offline": "on"})
    assert response.status_code == 400
    assert AnalyticsSettings.objects.get(pk=1).unanswered_min_stay_seconds == 90
