"""Every figure of the process report drills down to the rows behind it: for random reports
(grouping, filters, viewer, settings), the list of each count figure of each row and of the totals
is as long as the figure; the page links each figure to its list, and the list page shows them."""

import random
import re
from datetime import timedelta
from html import unescape

from django.test import Client

from okno.analytics.models import AnalyticsSettings
from okno.analytics.periods import Period
from okno.analytics.process_drill import FIGURE_COUNTS, NO_KEY, process_drill
from okno.analytics.process_report import ProcessQuery, process_report
from okno.analytics.tests.test_process_random import NOW, SPAN_DAYS, START, _company
from okno.people.models import User

# The figures that count rows (shares and averages list what they are taken over).
COUNTED = [f for f, c in FIGURE_COUNTS.items() if f == c]


def _random_query(rnd: random.Random, company: dict) -> tuple:
    start = START + timedelta(days=rnd.randrange(-5, SPAN_DAYS))
    period = Period(start, start + timedelta(days=rnd.randrange(0, 40)))
    user = rnd.choice(company["viewers"])
    query = ProcessQuery(period, group_by=rnd.choice(["source", "department", "employee", "pipeline"]))
    if user.is_admin and rnd.random() < 0.3:
        query = ProcessQuery(**{**query.__dict__, "department": rnd.choice(company["departments"]).pk})
    if user.is_admin and rnd.random() < 0.3:
        query = ProcessQuery(**{**query.__dict__, "employee": rnd.choice(company["people"]).pk})
    return user, query


def test_each_figure_lists_as_many_rows_as_it_counts(db):
    # given deals, leads, chats, form spam and callbacks of a company over two months
    rnd = random.Random(1616)
    company = _company(rnd)
    for _ in range(25):
        # when a random report is asked, with random settings of what counts as unanswered
        AnalyticsSettings.objects.update_or_create(pk=1, defaults={
            "unanswered_min_stay_seconds": rnd.choice([0, 60, 3600]),
            "unanswered_counts_offline": rnd.random() < 0.5})
        user, query = _random_query(rnd, company)
        report = process_report(user=user, query=query, now=NOW)
        # then each count figure of each row, and of the totals, lists that many rows
        for row in [*report["rows"], None]:
            key = "" if row is None else row["key"]
            figures = report["totals"] if row is None else row
            for figure in COUNTED:
                refs = process_drill(user=user, query=query, figure=figure, key=key, now=NOW)
                assert len(refs) == figures[figure], (query, user.username, key, figure)
                assert len(set(refs)) == len(refs)
            # and an average lists the rows it is taken over
            processed = process_drill(user=user, query=query, figure="processing_seconds_avg", key=key, now=NOW)
            assert len(processed) == figures["processed"]


def test_the_page_links_each_figure_to_its_rows(db):
    # given the company, and its administrator on the process report grouped by employee
    rnd = random.Random(7)
    company = _company(rnd)
    admin = next(u for u in company["viewers"] if u.is_admin)
    head = next(u for u in company["viewers"] if u.role == User.Role.HEAD)
    client = Client()
    client.force_login(admin)
    params = {"from": START.isoformat(), "to": (START + timedelta(days=SPAN_DAYS)).isoformat(),
              "group_by": "employee", "compare": "previous"}
    html = client.get("/reports/process/", params).content.decode()
    # when they follow the links of the page (a row's and the totals')
    links = [unescape(h) for h in re.findall(r'href="(/reports/process/list/\?[^"]+)"', html)]
    assert any("key=" in h for h in links) and any("key=" not in h for h in links)
    query = ProcessQuery(Period(START, START + timedelta(days=SPAN_DAYS)), group_by="employee")
    report = process_report(user=admin, query=query)
    for link in links[:12]:
        response = client.get(link)
        assert response.status_code == 200, link
        # then the list page says as many rows as the figure it came from
        figure = re.search(r"figure=([a-z_]+)", link).group(1)
        key = re.search(r"key=([^&]+)", link)
        row = report["totals"] if key is None else next(
            r for r in report["rows"] if str(r["key"] if r["key"] is not None else NO_KEY) == key.group(1))
        count = len(process_drill(user=admin, query=query, figure=figure,
                                  key="" if key is None else (None if key.group(1) == NO_KEY else int(key.group(1)))))
        if FIGURE_COUNTS[figure] == figure:
            assert count == row[figure]
        assert response.content.decode().count('<tr class="drill-row">') == min(count, 50)
    # and a head asking for another tree's employee is refused, naming the field
    outsider = next(p for p in company["people"] if p.department_id not in head.department.subtree_ids())
    other = Client()
    other.force_login(head)
    response = other.get("/reports/process/list/", {**params, "employee": outsider.pk, "figure": "deals"})
    assert response.status_code == 403 and "employee" in response.content.decode()
    # and an unknown figure is a 422 naming it
    assert client.get("/reports/process/list/", {**params, "figure": "talk"}).status_code == 422
