"""The demo's year of calls and chats: a weekly rhythm, absent days, a bad week for missed calls."""

from collections import Counter
from datetime import date, timedelta

import pytest
from django.utils import timezone

from okno.analytics.calls_report import CallsQuery, calls_report
from okno.analytics.periods import Period
from okno.demo import company as demo
from okno.demo.history_year import RECENT_DAYS, YEAR_DAYS, history_year_seed
from okno.inbox.models import Conversation
from okno.people.models import User
from okno.telephony.models import Call


@pytest.fixture
def seeded(db):
    return demo.demo_seed(contacts=400, seed=11)


def test_a_year_of_calls_before_the_six_weeks_with_a_weekly_rhythm(seeded):
    year = Call.objects.filter(pbx_call_id__startswith="year-")
    today = timezone.localdate()
    # then the year's calls lie between a year and six weeks ago, on their cards' timelines
    assert seeded.year is not None and seeded.year.calls == year.count() > 500
    first, last = (timezone.localtime(t).date() for t in (year.order_by("started_at").first().started_at,
                                                           year.order_by("-started_at").first().started_at))
    assert first >= today - timedelta(days=YEAR_DAYS) and last < today - timedelta(days=RECENT_DAYS - 1)
    # Mondays are busier than Saturdays, Sundays quietest
    by_weekday = Counter(timezone.localtime(t).weekday() for t in year.values_list("started_at", flat=True))
    assert by_weekday[0] > by_weekday[5] > by_weekday[6]
    # and the chats of the year carry operators, ratings and missed ones
    chats = Conversation.objects.filter(external_id__startswith="year-")
    assert seeded.year.chats == chats.count() > 50
    assert chats.filter(missed=True).exists() and chats.exclude(rating="").exists()


def test_the_bad_week_shows_in_the_calls_report(seeded):
    admin = User.objects.get(username=demo.DEMO_ADMIN)
    start = date.fromisoformat(seeded.year.bad_week)
    # when the administrator compares the bad week with the week before
    report = calls_report(user=admin, query=CallsQuery(period=Period(start, start + timedelta(days=6)),
                                                       group_by="department", compare="previous"))
    now, before = report["totals"], report["previous"]["totals"]
    # then a far larger share of inbound calls was missed, and more were never called back
    assert now["missed"] / now["calls"] > 2 * before["missed"] / before["calls"]
    assert now["missed_not_called_back"] > before["missed_not_called_back"]


def test_everyone_has_days_off(seeded):
    # given the managers' working days of the year
    year = Call.objects.filter(pbx_call_id__startswith="year-", employee__role=User.Role.MANAGER)
    days = Counter((e, timezone.localtime(t).date()) for e, t in year.values_list("employee_id", "started_at"))
    busiest = Counter(e for e, _d in days).most_common(1)[0][0]
    weekdays = {d for d in (date.today() - timedelta(days=n) for n in range(RECENT_DAYS, YEAR_DAYS))
                if d.weekday() < 5}
    # then even the busiest manager has weekdays with no call (a holiday, a sick day)
    assert len({d for e, d in days if e == busiest} & weekdays) < len(weekdays)


def test_nothing_is_seeded_without_a_pbx(db):
    report = history_year_seed(seed=1, say=lambda _m: None)
    assert (report.calls, report.chats) == (0, 0) and not Call.objects.exists()
