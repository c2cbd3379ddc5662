"""My work: open work items (callbacks owed, robots' to-dos) mine and my department's, and a
card's own, each closed or taken in one click."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from okno.core.redirects import safe_next
from okno.work import selectors
from okno.work.services import WorkItemTaken, workitem_done, workitem_take

SHOWS = ("mine", "unassigned", "overdue", "all")
PAGE_LIMIT = 200


@login_required
def my_work(request: HttpRequest) -> HttpResponse:
    show = request.GET.get("show", "all")
    show = show if show in SHOWS else "all"
    items = list(selectors.work_items_open(request.user, show=show)[:PAGE_LIMIT + 1])
    return render(request, "work/my_work.html", {
        "items": items[:PAGE_LIMIT], "more": len(items) > PAGE_LIMIT, "show": show, "shows": SHOWS,
        "now": timezone.now()})


@login_required
def for_contact(request: HttpRequest, contact_id: int) -> HttpResponse:
    """The card's panel of open work (loaded by htmx; empty when there is none)."""
    items = list(selectors.work_items_for_card(request.user, contact_id))
    return render(request, "work/_for_contact.html", {"items": items, "now": timezone.now(),
                                                      "contact_id": contact_id})


@login_required
@require_POST
def done(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(selectors.work_items_visible(request.user), pk=pk)
    workitem_done(actor=request.user, item=item)
    messages.success(request, _("Done: %(what)s.") % {"what": item.title or item.get_kind_display()})
    return redirect(safe_next(request, "work:mine"))


@login_required
@require_POST
def take(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(selectors.work_items_visible(request.user), pk=pk)
    try:
        workitem_take(actor=request.user, item=item)
    except WorkItemTaken as taken:
        messages.error(request, _("%(name)s has already taken it.") % {"name": str(taken) or _("Someone")})
    else:
        messages.success(request, _("It is yours now."))
    return redirect(safe_next(request, "work:mine"))
