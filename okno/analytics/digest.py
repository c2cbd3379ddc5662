"""The weekly digest: every Monday morning each saved report with the digest switched on is
e-mailed to its owner (a head or an administrator) for the week that ended, beside the week
before. Off by default (SavedReport.weekly_digest).

The worker's `analytics_digest` drain (registered in apps.py) looks every few minutes; each
report is claimed by a conditional UPDATE of `digest_sent_for` (exactly one row changed), so
two workers or a drain run twice send it once. The e-mail is queued in the outbox
(okno/outbox/services.py outbox_email) in the same transaction, keyed by report and week: the
outbox drain sends it and retries it.
"""

import logging
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from okno.analytics.models_boards import ReportKind, SavedReport
from okno.analytics.periods import Period
from okno.analytics.saved import PARSERS, may_get_digest, query_clean, report_url
from okno.core.errors import ApiError
from okno.outbox.services import outbox_email

log = logging.getLogger(__name__)
# Monday 07:00 in the company's time zone: in the inbox before the week's first meeting.
DIGEST_HOUR = 7
BATCH = 20
REPORTS = {ReportKind.CALLS: "okno.analytics.calls_report.calls_report",
           ReportKind.CHATS: "okno.analytics.chats_report.chats_report",
           ReportKind.PROCESS: "okno.analytics.process_report.process_report"}
# The totals the e-mail lists, per report (each a key of the report's totals), and their labels.
FIGURES = {
    ReportKind.CALLS: ("calls", "successful", "missed", "missed_not_called_back", "talk_seconds",
                       "wait_seconds_avg", "callback_seconds_avg"),
    ReportKind.CHATS: ("chats", "accepted", "missed", "first_response_seconds_avg", "response_seconds_avg",
                       "rating_positive", "rating_negative"),
}
# Figures where a fall is good news (the change's sign reads the other way).
FEWER_IS_BETTER = {"missed", "missed_not_called_back", "wait_seconds_avg", "callback_seconds_avg",
                   "first_response_seconds_avg", "response_seconds_avg", "rating_negative"}
TOP_ROWS = 10


def _labels() -> dict[str, str]:
    return {"calls": _("Calls"), "successful": _("Successful"), "missed": _("Missed"),
            "missed_not_called_back": _("Missed, not called back"), "talk_seconds": _("Talk time, min"),
            "wait_seconds_avg": _("Average wait, s"), "callback_seconds_avg": _("Average time to call back, s"),
            "chats": _("Chats"), "accepted": _("Chats accepted"),
            "first_response_seconds_avg": _("Average first response, s"),
            "response_seconds_avg": _("Average response, s"), "rating_positive": _("Good ratings"),
            "rating_negative": _("Bad ratings")}


def due_monday(now: datetime) -> date:
    """The Monday of the latest digest due: this week's once Monday DIGEST_HOUR has come."""
    local = timezone.localtime(now, ZoneInfo(settings.TIME_ZONE))
    monday = local.date() - timedelta(days=local.weekday())
    if local.weekday() == 0 and local.time() < time(DIGEST_HOUR):
        monday -= timedelta(days=7)
    return monday


def _value(figure: str, value):
    if value is None:
        return "—"
    if figure == "talk_seconds":
        return round(value / 60)
    return value


def _change(now, before) -> str:
    if not before or now is None:
        return ""
    pct = round((now - before) * 100 / before)
    return f"{pct:+d}%"


def digest_content(*, report: SavedReport, monday: date) -> tuple[str, str]:
    """The e-mail's subject and text: the saved report's question for the week before `monday`,
    beside the week before that, as its owner may see it."""
    _query, params = query_clean(kind=report.kind, query=report.query)
    week = Period(monday - timedelta(days=7), monday - timedelta(days=1))
    params.update({"from": week.start.isoformat(), "to": week.end.isoformat(), "compare": "previous"})
    query = import_string(PARSERS[report.kind])(params)
    answer = import_string(REPORTS[report.kind])(user=report.user, query=query)
    labels = _labels()
    figures = FIGURES.get(report.kind) or tuple(k for k in answer["totals"] if k in labels)
    before = answer.get("previous", {}).get("totals", {})
    lines = [{"label": labels.get(f, f), "value": _value(f, answer["totals"].get(f)),
              "previous": _value(f, before.get(f)),
              "change": _change(answer["totals"].get(f), before.get(f))} for f in figures if f in answer["totals"]]
    main = figures[0] if figures else None
    rows = sorted(answer["rows"], key=lambda r: -(r.get(main) or 0))[:TOP_ROWS] if main else []
    url = report_url(report.kind, report.query) or ""
    context = {"report": report, "week": week, "lines": lines, "main_label": labels.get(main, main),
               "rows": [{"label": str(r["label"]), "value": _value(main, r.get(main))} for r in rows],
               "url": f"{settings.SITE_URL.rstrip('/')}{url}" if url else ""}
    subject = _("Weekly report: %(name)s, %(start)s – %(end)s") % {
        "name": report.name, "start": week.start.strftime("%d.%m"), "end": week.end.strftime("%d.%m")}
    return subject, render_to_string("analytics/digest_email.txt", context)


def _claim(report_id: int, monday: date) -> bool:
    """Exactly one worker moves the report to this week: the one whose UPDATE changed a row."""
    return SavedReport.objects.filter(
        Q(digest_sent_for__isnull=True) | Q(digest_sent_for__lt=monday), pk=report_id, weekly_digest=True,
    ).update(digest_sent_for=monday) == 1


def digest_send(*, report: SavedReport, monday: date) -> bool:
    """Claims and queues one report's digest; False when another run sent it or nobody gets it."""
    with transaction.atomic():
        if not _claim(report.pk, monday):
            return False
        user = report.user
        if not user.is_active or not user.email or not may_get_digest(user):
            return False  # claimed all the same: looked at again next week
        try:
            with translation.override(settings.LANGUAGE_CODE):
                subject, body = digest_content(report=report, monday=monday)
        except ApiError:  # a filter that no longer holds (a department removed): skipped this week
            log.warning("digest of saved report %s skipped: its parameters are refused now", report.pk)
            return False
        outbox_email(to=user.email, subject=subject, body=body, key=f"digest-{report.pk}-{monday.isoformat()}")
        return True


def digest_drain(*, now: datetime | None = None, batch: int = BATCH) -> int:
    """The worker's drain: queues the due digests, a batch at a time; returns how many it looked at."""
    monday = due_monday(now or timezone.now())
    due = list(SavedReport.objects.filter(Q(digest_sent_for__isnull=True) | Q(digest_sent_for__lt=monday),
                                          weekly_digest=True).select_related("user").order_by("pk")[:batch])
    for report in due:
        digest_send(report=report, monday=monday)
    return len(due)
