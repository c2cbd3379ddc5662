"""Calls as the telephony records them, written directly: a report test needs many, fast."""

import itertools
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings

from okno.inbox.models import Channel
from okno.inbox.tests.factories import make_channel
from okno.telephony.models import Call

_ids = itertools.count(1)


def local(day: str, hh: int = 12, mm: int = 0, ss: int = 0) -> datetime:
    """A moment in the company's time zone: local("2026-11-02", 9, 30)."""
    return datetime.fromisoformat(day).replace(hour=hh, minute=mm, second=ss, tzinfo=ZoneInfo(settings.TIME_ZONE))


def pbx() -> Channel:
    return Channel.objects.filter(kind="mango").first() or make_channel(kind="mango", name="АТС")


def call_row(*, at: datetime, direction: str = "in", outcome: str = "answered", talk: int = 60, wait: int = 5,
             employee=None, department=None, number: str = "+74950000001", line: str = "+74951110000",
             contact=None, channel: Channel | None = None) -> Call:
    """An unsaved Call that started at `at`: answered after `wait` seconds and talked `talk`, or
    not answered and ended after `wait`."""
    answered = outcome == Call.Outcome.ANSWERED
    answered_at = at + timedelta(seconds=wait) if answered else None
    ended_at = (answered_at + timedelta(seconds=talk)) if answered else at + timedelta(seconds=wait)
    if outcome == Call.Outcome.ONGOING:
        ended_at = None
    return Call(channel=channel or pbx(), pbx_call_id=f"a{next(_ids)}", direction=direction, outcome=outcome,
                started_at=at, answered_at=answered_at, ended_at=ended_at, wait_seconds=wait,
                talk_seconds=talk if answered else 0, employee=employee,
                department=department if department is not None else getattr(employee, "department", None),
                customer_number=number, line=line, contact=contact)


def make_call(**kw) -> Call:
    call = call_row(**kw)
    call.save()
    return call
