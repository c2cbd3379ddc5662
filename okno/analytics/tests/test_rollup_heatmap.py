"""The heat map answered through its rollup (okno.analytics.rollup_hours) equals the heat map
computed live over the calls, for random (period, filters, viewer) combinations over built days,
whole months, days changed after they were built (marked) and today."""

import random
from datetime import timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from okno.analytics import calls_heatmap as heatmap
from okno.analytics.calls_report import CallsQuery, Period
from okno.analytics.models_rollup import CallHourStat
from okno.analytics.rollup import rollup_check_changed, rollup_rebuild
from okno.analytics.rollup_today import rollup_build_today
from okno.analytics.tests.test_rollup_random import LINES, SPAN_DAYS, _company
from okno.telephony.models import Call


def test_random_heat_maps_through_the_rollup_equal_the_live_ones(db, monkeypatch):
    # given 700 random calls over 75 days up to today, built into the rollup
    today = timezone.localdate(timezone=ZoneInfo(settings.TIME_ZONE))
    first = today - timedelta(days=SPAN_DAYS)
    rnd = random.Random(1616)
    company = _company(rnd, first)
    rollup_rebuild(start=first - timedelta(days=400))
    rollup_build_today()  # and today's settled calls, with their hours
    assert CallHourStat.objects.filter(span="monthd").exists() or SPAN_DAYS < 31
    # and some calls changed after their days were built, as a late CDR line would
    changed = rnd.sample(list(Call.objects.filter(direction="in").values_list("pk", flat=True)), 20)
    Call.objects.filter(pk__in=changed[:10]).update(outcome="missed", updated_at=timezone.now())
    rollup_check_changed(force=True)
    answered = {"rollup": 0}
    real = heatmap._from_rollup

    def counting(**kw):
        done = real(**kw)
        answered["rollup"] += done
        return done

    monkeypatch.setattr(heatmap, "_from_rollup", counting)
    for _ in range(80):
        # when a random heat map is asked
        start = first + timedelta(days=rnd.randrange(-5, SPAN_DAYS + 1))
        if rnd.random() < 0.4:
            start = start.replace(day=1)
        end = min(start + timedelta(days=rnd.choice([0, 6, 30, 45, 91])), today)
        start = min(start, end)
        user = rnd.choice(company["viewers"])
        query = CallsQuery(Period(start, end), direction=rnd.choice(["", "", "in", "out"]),
                           line=rnd.choice(["", "", *LINES[:2]]))
        if user.is_admin and rnd.random() < 0.3:
            query = CallsQuery(**{**query.__dict__, "department": rnd.choice(company["departments"]).pk})
        if user.is_admin and rnd.random() < 0.3:  # a person's: whole months per employee, days live
            query = CallsQuery(**{**query.__dict__, "employee": rnd.choice(company["people"]).pk})
        # then the rollup's answer is the live one, cell by cell
        got = heatmap.calls_heatmap(user=user, query=query)
        want = heatmap.calls_heatmap(user=user, query=query, rollup=False)
        assert got == want, (query, user.username)
    # and the rollup did answer (a rollup never read would prove nothing)
    assert answered["rollup"] >= 20
