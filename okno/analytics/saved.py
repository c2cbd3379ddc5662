"""Saved reports: a report's parameters kept under a name, reopened in one click, and (for heads
and administrators, off by default) e-mailed every Monday as a digest (okno/analytics/digest.py)."""

from datetime import datetime
from urllib.parse import parse_qsl, urlencode

from django.db import IntegrityError, transaction
from django.http import Http404
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext_noop

from okno.analytics.models_boards import ReportKind, SavedReport
from okno.core.errors import ApiError, FieldError
from okno.people.models import User

# Each report's page (URL name) and the parser of its query string (a 422 naming the field).
PAGES = {ReportKind.CALLS: "analytics:calls", ReportKind.CHATS: "analytics:chats",
         ReportKind.PROCESS: "analytics:process"}
PARSERS = {ReportKind.CALLS: "okno.analytics.calls_report.calls_query_parse",
           ReportKind.CHATS: "okno.analytics.chats_report.chats_query_parse",
           ReportKind.PROCESS: "okno.analytics.process_report.process_query_parse"}
# The page's own parameters: kept in the saved query (the unit), but not the report's question.
PAGE_ONLY = ("unit",)
# Never kept: an export link saved would download a file instead of opening the page.
DROPPED = ("format", "csrfmiddlewaretoken")
QUERY_MAX = 2000
NAME_MAX = 120
# The reasons saved_report_save gives, for the catalogue (pages show them through okno.core.reasons).
REASONS = [gettext_noop("you have a saved report of this name"),
           gettext_noop("only heads of departments and administrators get the digest"),
           gettext_noop("this report is not available"), gettext_noop("at most 2000 characters")]


def may_get_digest(user) -> bool:
    """The weekly digest is for those who run a team: heads of departments and administrators."""
    return user.is_admin or (user.role == User.Role.HEAD and user.department_id is not None)


def report_url(kind: str, query: str = "") -> str | None:
    """The report page's URL with the query, or None when that report is not built here."""
    try:
        path = reverse(PAGES[kind])
    except (KeyError, NoReverseMatch):
        return None
    return f"{path}?{query}" if query else path


def query_clean(*, kind: str, query: str) -> tuple[str, dict]:
    """The saved form of a query string and its report parameters; a FieldError naming `query`
    when the report would refuse it (the reason the report gives)."""
    raw = (query or "").strip().lstrip("?")
    if len(raw) > QUERY_MAX:
        raise FieldError({"query": f"at most {QUERY_MAX} characters"})
    pairs = [(k, v) for k, v in parse_qsl(raw, keep_blank_values=True) if k not in DROPPED and v != ""]
    params = {k: v for k, v in pairs if k not in PAGE_ONLY}
    try:
        parse = import_string(PARSERS[kind])
    except (KeyError, ImportError) as exc:
        raise FieldError({"kind": "this report is not available"}) from exc
    # No period: the page's own default (this month so far), a period that moves with the calendar.
    today = timezone.localdate().isoformat()
    checked = params if ("from" in params or "to" in params) else {**params, "from": today, "to": today}
    try:
        parse(checked)
    except ApiError as exc:
        first = exc.errors[0] if exc.errors else {"field": "", "reason": exc.detail}
        raise FieldError({"query": f"{first['field']}: {first['reason']}"}) from exc
    return urlencode(pairs), params


def digest_due_week(now: datetime | None = None):
    """The Monday of the week whose digest is due now (okno/analytics/digest.py): the latest
    Monday whose morning has come."""
    from okno.analytics.digest import due_monday

    return due_monday(now or timezone.now())


@transaction.atomic
def saved_report_save(*, user, name: str, kind: str, query: str, weekly_digest: bool = False,
                      report: SavedReport | None = None) -> SavedReport:
    """Keeps a report's parameters under a name, unique per user. The digest is offered to heads
    and administrators; switched on, the first one goes out next Monday, not at once."""
    errors = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = "required"
    elif len(name) > NAME_MAX:
        errors["name"] = f"at most {NAME_MAX} characters"
    if kind not in ReportKind.values:
        errors["kind"] = f"must be one of {', '.join(ReportKind.values)}"
    if weekly_digest and not may_get_digest(user):
        errors["weekly_digest"] = "only heads of departments and administrators get the digest"
    if errors:
        raise FieldError(errors)
    cleaned, _params = query_clean(kind=kind, query=query)
    if report is not None and report.user_id != user.pk:
        raise Http404("no such saved report")
    report = report or SavedReport(user=user)
    if weekly_digest and not report.weekly_digest:
        report.digest_sent_for = digest_due_week()
    report.name, report.kind, report.query, report.weekly_digest = name, kind, cleaned, weekly_digest
    try:
        with transaction.atomic():
            report.save()
    except IntegrityError as exc:
        raise FieldError({"name": "you have a saved report of this name"}) from exc
    return report


def saved_reports_for_user(*, user):
    return SavedReport.objects.filter(user=user).order_by("kind", "name")


def saved_report_get(*, user, report_id: int) -> SavedReport:
    """The user's own saved report, or a 404: nobody opens another's."""
    report = SavedReport.objects.filter(user=user, pk=report_id).first()
    if report is None:
        raise Http404("no such saved report")
    return report


def saved_report_delete(*, user, report_id: int) -> None:
    saved_report_get(user=user, report_id=report_id).delete()
