"""Everyone's lead pages: my leads, the live notification badge, reading and taking a lead.

Live notifications poll: htmx asks `/leads/notifications/` every few seconds while the tab is
visible, and the answer is one indexed count plus the newest lead. A server-sent-events stream
per user would need a long-lived connection per open tab (an async server or a thread each);
polling works behind any WSGI server and proxy as it is. Which holds up at 500 connected users
is a benchmark still to run (ARCHITECTURE.md, "Live screens").
"""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from okno.core.redirects import safe_next
from okno.deals.models import Lead
from okno.deals.notifications import lead_mark_read, lead_take_in_work, leads_assigned, leads_unread
from okno.deals.views_leads import lead_end_choices

PAGE_SIZE = 50
# Seconds between two polls of the notification badge (the template's hx-trigger).
POLL_SECONDS = 5


@login_required
def leads_page(request: HttpRequest) -> HttpResponse:
    page = Paginator(leads_assigned(user=request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "deals/leads.html", {"page": page, **lead_end_choices(request.user)})


def _lead(request: HttpRequest, pk: int) -> Lead:
    return get_object_or_404(Lead.objects.filter(assignee=request.user) if not request.user.is_admin
                             else Lead.objects.all(), pk=pk)


@login_required
@require_POST
def lead_read(request: HttpRequest, pk: int) -> HttpResponse:
    lead_mark_read(actor=request.user, lead=_lead(request, pk))
    return redirect(safe_next(request, "deals:leads"))


@login_required
@require_POST
def lead_take(request: HttpRequest, pk: int) -> HttpResponse:
    lead = lead_take_in_work(actor=request.user, lead=_lead(request, pk))
    return redirect("contacts:card", pk=lead.contact_id)


@login_required
def notifications(request: HttpRequest) -> HttpResponse:
    """The badge: how many of my leads are unread, and the newest of them."""
    unread = leads_unread(user=request.user)
    count = unread.count()
    newest = unread.first() if count else None
    return render(request, "deals/_notifications.html", {"unread_count": count, "newest": newest,
                                                         "poll_seconds": POLL_SECONDS})
