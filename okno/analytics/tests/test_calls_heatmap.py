"""GET /api/v1/analytics/calls/heatmap: inbound and missed calls by weekday and hour in the
company's time zone, with the report's scope and filters; the page draws it."""

from okno.analytics.tests.factories import local, make_call
from okno.people.models import User
from okno.people.tests.factories import UserFactory

URL = "/api/v1/analytics/calls/heatmap"


def cell(body, weekday: int, hour: int) -> dict:
    return next(c for c in body["cells"] if (c["weekday"], c["hour"]) == (weekday, hour))


def test_inbound_and_missed_by_weekday_and_local_hour(api):
    # given, on Tuesday 10 November 2026 (Moscow), two inbound calls at 09:xx (one missed), one at
    # 23:30 (20:30 UTC), and an outbound call at 09:10 that is no load of inbound calls
    make_call(at=local("2026-11-10", 9, 5))
    make_call(at=local("2026-11-10", 9, 40), outcome="missed")
    make_call(at=local("2026-11-10", 23, 30), outcome="missed")
    make_call(at=local("2026-11-10", 9, 10), direction="out")
    # when the heat map of that week is asked
    body = api.get(URL, **{"from": "2026-11-09", "to": "2026-11-15"}).json()
    # then every cell is there, Monday first, and the calls fall on Tuesday's local hours
    assert len(body["cells"]) == 168
    assert cell(body, 2, 9) == {"weekday": 2, "hour": 9, "inbound": 2, "missed": 1}
    assert cell(body, 2, 23) == {"weekday": 2, "hour": 23, "inbound": 1, "missed": 1}
    assert body["totals"] == {"inbound": 3, "missed": 2}
    # and with the report's filters: only missed calls
    body = api.get(URL, **{"from": "2026-11-09", "to": "2026-11-15", "outcome": "missed"}).json()
    assert body["totals"] == {"inbound": 2, "missed": 2}


def test_a_manager_sees_their_own_and_bad_input_names_the_field(api_as, api):
    anna, boris = UserFactory(), UserFactory()
    make_call(at=local("2026-11-10", 10), employee=anna)
    make_call(at=local("2026-11-10", 10), employee=boris)
    body = api_as(anna).get(URL, **{"from": "2026-11-10", "to": "2026-11-10"}).json()
    assert body["totals"]["inbound"] == 1
    refused = api_as(anna).get(URL, **{"from": "2026-11-10", "to": "2026-11-10", "employee": boris.pk})
    assert (refused.status_code, refused.json()["errors"][0]["field"]) == (403, "employee")
    for params, field in (({"from": "2026-11-10"}, "to"), ({"from": "2026-11-10", "to": "2026-11-10", "hour": "9"},
                                                             "hour"),
                          ({"from": "2026-11-10", "to": "2026-11-10", "outcome": "x"}, "outcome")):
        response = api.get(URL, **params)
        assert (response.status_code, response.json()["errors"][0]["field"]) == (422, field), params
    assert User.objects.count() >= 2


def test_the_page_draws_the_heat_maps_and_the_share_of_successful(client, admin_user):
    client.force_login(admin_user)
    make_call(at=local("2026-11-10", 9, 5), talk=60)
    make_call(at=local("2026-11-10", 9, 40), outcome="missed")
    page = client.get("/reports/calls/", {"from": "2026-11-10", "to": "2026-11-10"})
    chart = page.context["chart"]
    assert [9, 1, 2] in chart["heat"]["inbound"] and [9, 1, 1] in chart["heat"]["missed"]  # [hour, Tuesday, n]
    assert chart["days"]["successful_share"] == [50.0]
    assert b'id="chart-heat-inbound"' in page.content and b'id="chart-share"' in page.content
