"""The rows behind a figure of the process report: the deals, leads, conversations (and the
honeypot's form submissions) or callback work items a figure counted, read off the same items the
report sums (okno.analytics.process_report.process_items), so a list is as long as its figure
(test_process_drilldown.py checks it for random reports).

A share or an average lists what it is taken over: "processing time" the processed deals, "pause"
the deals with a pause that ended, "conversion" the converted leads, "unanswered, %" the
unanswered requests, "time to call back" the callbacks closed.
"""

from dataclasses import dataclass
from datetime import datetime

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from okno.analytics.periods import invalid, parse_choice, parse_id
from okno.analytics.process_report import ProcessQuery, process_items
from okno.analytics.scope import check_filters
from okno.deals.models import Deal, Lead
from okno.inbox.models import Conversation, InboundEvent
from okno.work.models import WorkItem

# A figure of the table -> the count of an item that puts it in the list.
FIGURE_COUNTS = {
    "deals": "deals", "processed": "processed", "processing_seconds_avg": "processed", "paused": "paused",
    "pause_seconds_avg": "pauses", "lost_in_pause": "lost_in_pause", "lost_in_pause_share": "lost_in_pause",
    "leads": "leads", "leads_converted": "leads_converted", "conversion_share": "leads_converted",
    "leads_late": "leads_late", "requests": "requests", "unanswered": "unanswered", "unanswered_share": "unanswered",
    "left_quickly": "left_quickly", "offline": "offline", "spam": "spam", "callbacks": "callbacks",
    "callbacks_late": "callbacks_late", "callback_seconds_avg": "callbacks_closed",
}
NO_KEY = "none"  # key=none: the row without one ("No source", "No employee", ...)


def drill_parse(params, query: ProcessQuery) -> tuple[str, object]:
    """(figure, group key) of a drill-down: `figure` one of FIGURE_COUNTS; `key` the row's key, ""
    for the totals, None for the row without one (key=none). A 422 naming the field otherwise."""
    figure = parse_choice(params, "figure", FIGURE_COUNTS, default="deals")
    raw = (params.get("key") or "").strip()
    if not raw:
        return figure, ""
    if raw == NO_KEY:
        return figure, None
    if query.group_by == "source":
        if len(raw) > 100 or not raw.isprintable():
            raise invalid("key", "a source of at most 100 printable characters")
        return figure, raw
    key = parse_id({"key": raw}, "key")
    if key is None:
        raise invalid("key", "must be an id or none")
    return figure, key


def process_drill(*, user, query: ProcessQuery, figure: str, key, now=None) -> list[tuple[str, int]]:
    """The (kind, id) of the rows behind one figure of one row (key "" = the totals), newest
    first, for what `user` may see (the report's own scope and filters)."""
    from django.utils import timezone

    check_filters(user=user, department=query.department, employee=query.employee)
    count = FIGURE_COUNTS[figure]
    found = [(at, ref) for ref, at, k, counts in process_items(user=user, query=query, period=query.period,
                                                               now=now or timezone.now())
             if counts.get(count) and (key == "" or k == key)]
    # Deals, leads and callbacks tell their time as unix seconds, requests as a datetime.
    found.sort(key=lambda item: (item[0] if isinstance(item[0], float) else item[0].timestamp(), item[1]),
               reverse=True)
    return [ref for _at, ref in found]


@dataclass
class DrillRow:
    at: datetime | None
    what: str
    title: str
    url: str | None
    employee: str
    status: str


def _name(user) -> str:
    return user.display_name if user is not None else "—"


def drill_rows(refs: list[tuple[str, int]]) -> list[DrillRow]:
    """Display rows for one page of `process_drill`'s refs, in their order: a query per kind."""
    ids: dict[str, list[int]] = {}
    for kind, pk in refs:
        ids.setdefault(kind, []).append(pk)
    rows: dict[tuple[str, int], DrillRow] = {}
    for d in Deal.objects.filter(pk__in=ids.get("deal", [])).select_related("stage", "responsible"):
        rows["deal", d.pk] = DrillRow(d.created_at, _("Deal"), d.title, reverse("deals:deal", args=[d.pk]),
                                      _name(d.responsible), d.stage.name)
    for lead in Lead.objects.filter(pk__in=ids.get("lead", [])).select_related("contact", "assignee"):
        rows["lead", lead.pk] = DrillRow(lead.created_at, _("Lead"), lead.title or str(lead.contact),
                                         reverse("contacts:card", args=[lead.contact_id]), _name(lead.assignee),
                                         lead.get_status_display())
    for c in Conversation.objects.filter(pk__in=ids.get("conversation", [])).select_related(
            "contact", "channel", "operator"):
        status = _("spam") if c.spam else (_("replied") if c.first_reply_at else c.get_kind_display())
        rows["conversation", c.pk] = DrillRow(
            c.started_at, pgettext("a request to the company", "Request"), f"{c.channel.name}: {c.contact}",
            reverse("contacts:card", args=[c.contact_id]) if c.contact_id else None, _name(c.operator), status)
    for e in InboundEvent.objects.filter(pk__in=ids.get("event", [])).select_related("channel"):
        rows["event", e.pk] = DrillRow(e.received_at, _("Form spam"), e.channel.name if e.channel_id else "—", None,
                                       "—", _("caught by the honeypot"))
    for w in WorkItem.objects.filter(pk__in=ids.get("callback", [])).select_related("contact", "assignee"):
        rows["callback", w.pk] = DrillRow(
            w.created_at, _("Callback request"), w.title or str(w.contact or w.number),
            reverse("contacts:card", args=[w.contact_id]) if w.contact_id else None, _name(w.assignee),
            w.get_status_display())
    return [rows[ref] for ref in refs if ref in rows]
