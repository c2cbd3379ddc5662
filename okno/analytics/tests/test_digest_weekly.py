"""The weekly digest: Monday morning, each saved report with the digest on is e-mailed to its head
for the week that ended, once, through the outbox."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.utils import translation

from okno.analytics.digest import digest_drain, due_monday
from okno.analytics.models_boards import SavedReport
from okno.analytics.tests.factories import local, make_call
from okno.outbox.drain import outbox_drain
from okno.people.models import User
from okno.people.tests.factories import DepartmentFactory, UserFactory

MSK = ZoneInfo("Europe/Moscow")
MONDAY_MORNING = datetime(2026, 11, 30, 7, 30, tzinfo=MSK)


@pytest.fixture
def head(db, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.TIME_ZONE = "Europe/Moscow"
    sales = DepartmentFactory(name="Продажи")
    head = UserFactory(role=User.Role.HEAD, department=sales, email="head@example.com")
    anna = UserFactory(department=sales, first_name="Анна", last_name="А")
    # the week of 23-29 November: 3 calls, 1 missed; the week before: 1 call
    for day, outcome in (("2026-11-23", "answered"), ("2026-11-25", "answered"), ("2026-11-27", "missed"),
                         ("2026-11-17", "answered")):
        make_call(at=local(day, 11), employee=anna, outcome=outcome)
    return head


def _saved(user, *, digest=True, **kw) -> SavedReport:
    return SavedReport.objects.create(user=user, name=kw.get("name", "Звонки отдела"), kind="calls",
                                      query=kw.get("query", "from=2026-01-01&to=2026-01-31&group_by=employee"),
                                      weekly_digest=digest)


def test_monday_morning_the_head_gets_last_weeks_figures_once(head):
    # given a saved report with the digest on, and one with it off (the default)
    report = _saved(head)
    _saved(head, digest=False, name="Без письма")
    # when the worker's drain runs on Monday 07:30, twice, and the outbox sends
    with translation.override("en"):
        digest_drain(now=MONDAY_MORNING)
        digest_drain(now=MONDAY_MORNING)
    outbox_drain()
    # then one e-mail went to the head, for 23-29 November beside the week before
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == ["head@example.com"]
    assert "Звонки отдела" in email.subject
    assert "23.11" in email.subject and "29.11" in email.subject
    # the default language (Russian) and the week's totals with the change: 3 calls against 1
    assert "Звонки: 3 (" in email.body and "+200%" in email.body
    assert "Анна А: 3" in email.body
    assert f"/reports/calls/?{report.query}" in email.body
    report.refresh_from_db()
    assert report.digest_sent_for == date(2026, 11, 30)


def test_nothing_goes_out_before_monday_seven_or_to_a_manager(head):
    report = _saved(head)
    report.digest_sent_for = date(2026, 11, 23)
    report.save()
    manager = UserFactory(department=head.department, email="m@example.com")
    _saved(manager, name="Менеджер")  # switched on behind the form's back
    # when the drain runs on Monday 06:59
    digest_drain(now=datetime(2026, 11, 30, 6, 59, tzinfo=MSK))
    outbox_drain()
    # then the head's week is not due yet (last week's went out already), and the manager's
    # row is claimed but sends nothing
    assert mail.outbox == []


def test_the_due_monday_is_the_latest_whose_morning_came():
    assert due_monday(datetime(2026, 11, 30, 7, 0, tzinfo=MSK)) == date(2026, 11, 30)
    assert due_monday(datetime(2026, 11, 30, 6, 0, tzinfo=MSK)) == date(2026, 11, 23)
    assert due_monday(datetime(2026, 12, 6, 23, 0, tzinfo=MSK)) == date(2026, 11, 30)
