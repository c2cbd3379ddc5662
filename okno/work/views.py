"""My work: open work items (callbacks owed, robots' to-dos) mine and my department's, and a
card's own, each closed or taken in one click."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from okno.core.errors import ApiError
from okno.core.redirects import safe_next
from okno.work import selectors
from okno.work.queue_settings import picks_only_by_next
from okno.work.services import WorkItemTaken, workitem_done, workitem_take

SHOWS = ("mine", "unassigned", "overdue", "all")
PAGE_LIMIT = 200


@login_required
def my_work(request: HttpRequest) -> HttpResponse:
    may_take = not picks_only_by_next(request.user)
    # Next-only managers have no "Department's queue" tab (their queue comes by Next).
    shows = SHOWS if may_take else tuple(s for s in SHOWS if s != "unassigned")
    show = request.GET.get("show", "all")
    show = show if show in shows else "all"
    items = list(selectors.work_items_open(request.user, show=show)[:PAGE_LIMIT + 1])
    return render(request, "work/my_work.html", {
        "items": items[:PAGE_LIMIT], "more": len(items) > PAGE_LIMIT, "show": show, "shows": shows,
        "now": timezone.now(), "may_take": may_take})


@login_required
def for_contact(request: HttpRequest, contact_id: int) -> HttpResponse:
    """The card's panel of open work (loaded by htmx; empty when there is none)."""
    items = list(selectors.work_items_for_card(request.user, contact_id))
    return render(request, "work/_for_contact.html", {"items": items, "now": timezone.now(),
                                                      "contact_id": contact_id,
                                                      "may_take": not picks_only_by_next(request.user)})


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
    except ApiError as refused:  # the department's queue comes by Next only
        return render(request, "work/refused.html", {"reason": refused.detail}, status=refused.status)
    except WorkItemTaken as taken:
        messages.error(request, _("%(name)s has already taken it.") % {"name": str(taken) or _("Someone")})
    else:
        messages.success(request, _("It is yours now."))
    return redirect(safe_next(request, "work:mine"))
