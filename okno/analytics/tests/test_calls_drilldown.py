"""Every figure of the calls table links to the calls behind it, and the calls list at that link
holds exactly as many calls as the figure counts: for random groupings, filters and viewers."""

import random
from urllib.parse import parse_qs, urlparse

from django.test import Client

from okno.analytics.models import AnalyticsSettings, DepartmentThreshold
from okno.analytics.tests.test_calls_random import START, _company
from okno.contacts.models import Contact, Tag

# The figures a list can be counted against: (figure, the report's count behind it).
COUNTED = {"calls": "calls", "successful": "successful", "missed": "missed",
           "missed_not_called_back": "missed_not_called_back", "talk_seconds": "answered",
           "talk_seconds_avg": "answered"}
COLUMNS = ["calls", "successful", "missed", "missed_not_called_back", "talk_seconds", "talk_seconds_avg",
           "wait_seconds_avg", "callback_seconds_avg"]


def _count(client: Client, link: str) -> int:
    response = client.get(link)
    assert response.status_code == 200, (link, response.content[:300])
    return response.context["page"].paginator.count


def test_the_calls_behind_each_figure_are_as_many_as_the_figure(db):
    # given 400 random calls over 70 days, desk's own threshold, and one contact tagged "VIP"
    rnd = random.Random(1616)
    company = _company(rnd)
    AnalyticsSettings.objects.create(pk=1, success_threshold_seconds=20, callback_window_minutes=30)
    DepartmentThreshold.objects.create(department=company["departments"][1], success_threshold_seconds=30)
    vip = Tag.objects.create(name="VIP")
    Contact.objects.order_by("pk").first().tags.add(vip)
    checked = 0
    for i in range(14):
        viewer = company["viewers"][i % len(company["viewers"])]
        client = Client()
        client.force_login(viewer)
        start = START.replace(day=1 + rnd.randrange(20))
        params = {"from": start.isoformat(), "to": start.replace(month=start.month + 1).isoformat(),
                  "group_by": rnd.choice(["employee", "department", "line", "client", "day"])}
        if rnd.random() < 0.4:
            params["outcome"] = rnd.choice(["missed", "answered", "successful", "missed_not_called_back"])
        if rnd.random() < 0.3:
            params["direction"] = rnd.choice(["in", "out"])
        if rnd.random() < 0.25:
            params["tag"] = str(vip.pk)
        # when the report page is drawn
        page = client.get("/reports/calls/", params)
        assert page.status_code == 200, page.content[:300]
        report = page.context["report"]
        rows = {r["key"]: r for r in report["rows"]}
        table = [(rows[row.key], row) for row in page.context["rows"]]
        picked = rnd.sample(table, min(3, len(table))) + [(report["totals"], page.context["totals"])]
        # then each counted figure's link lists as many calls as the figure says
        for figures, row in picked:
            for name, cell in zip(COLUMNS, row.cells, strict=True):
                if name not in COUNTED or cell.link is None:
                    continue
                if figures is not report["totals"] and report["group_by"] == "line" and not row.key:
                    continue
                assert _count(client, cell.link) == figures[COUNTED[name]], (params, viewer.username, name, cell.link)
                checked += 1
            # and the time to call back links to the calls called back
            back = row.cells[COLUMNS.index("callback_seconds_avg")].link
            if back:
                called_back = figures["missed"] - figures["missed_not_called_back"]
                assert _count(client, back) == called_back, (params, back)
    assert checked > 100


def test_a_figure_link_keeps_the_reports_filters_and_the_row(db, client, admin_user):
    # given a report by employee filtered to inbound calls
    client.force_login(admin_user)
    from okno.analytics.tests.factories import local, make_call

    make_call(at=local("2026-11-10", 10), employee=admin_user, outcome="missed")
    page = client.get("/reports/calls/", {"from": "2026-11-01", "to": "2026-11-30", "direction": "in"})
    # when its "missed, not called back" figure is followed
    row = page.context["rows"][0]
    link = row.cells[COLUMNS.index("missed_not_called_back")].link
    # then the list is asked for the period, the filter, the row's employee and the figure's outcome
    query = parse_qs(urlparse(link).query)
    assert urlparse(link).path == "/telephony/calls/"
    assert query == {"from": ["2026-11-01"], "to": ["2026-11-30"], "direction": ["in"],
                     "employee": [str(admin_user.pk)], "outcome": ["missed_not_called_back"]}
