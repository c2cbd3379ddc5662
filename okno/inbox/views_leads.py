"""Everyone's inbox pages: my leads, the live notification badge, replies from the card.

Live notifications poll: htmx asks `/inbox/notifications/` every few seconds while the tab is
visible, and the answer is one indexed count plus the newest lead. A server-sent-events stream
per user would need a long-lived connection per open tab (an async server or a thread each);
polling works behind any WSGI server and proxy as it is. Which holds up at 500 connected users
is a benchmark still to run (ARCHITECTURE.md, "Live screens").
"""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from okno.contacts.forms import reason_text
from okno.core.errors import FieldError
from okno.deals.models import Lead
from okno.deals.notifications import lead_mark_read, lead_take_in_work, leads_assigned, leads_unread
from okno.inbox.replies import conversation_reply
from okno.inbox.selectors import conversation_for_card, conversations_visible

PAGE_SIZE = 50
# Seconds between two polls of the notification badge (the template's hx-trigger).
POLL_SECONDS = 5


@login_required
def leads_page(request: HttpRequest) -> HttpResponse:
    page = Paginator(leads_assigned(user=request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "inbox/leads.html", {"page": page})


def _lead(request: HttpRequest, pk: int) -> Lead:
    return get_object_or_404(Lead.objects.filter(assignee=request.user) if not request.user.is_admin
                             else Lead.objects.all(), pk=pk)


@login_required
@require_POST
def lead_read(request: HttpRequest, pk: int) -> HttpResponse:
    lead_mark_read(actor=request.user, lead=_lead(request, pk))
    return redirect(request.POST.get("next") if request.POST.get("next", "").startswith("/") else "inbox:leads")


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
    return render(request, "inbox/_notifications.html", {"unread_count": count, "newest": newest,
                                                          "poll_seconds": POLL_SECONDS})


@login_required
@require_POST
def conversation_reply_view(request: HttpRequest, pk: int) -> HttpResponse:
    conversation = get_object_or_404(conversations_visible(user=request.user).select_related("channel"), pk=pk)
    text, error = request.POST.get("text", ""), None
    try:
        conversation_reply(actor=request.user, conversation=conversation, text=text)
    except FieldError as exc:
        error = reason_text(next(iter(exc.by_field.values())))
    except PermissionDenied as exc:
        raise Http404 from exc
    if not request.htmx:
        return redirect("contacts:card", pk=conversation.contact_id)
    # 200 even with an error: htmx does not swap 4xx answers by default.
    return render(request, "inbox/_conversation.html", {
        "conv": conversation_for_card(user=request.user, pk=pk), "reply_error": error,
        "reply_text": text if error else "",
    })
