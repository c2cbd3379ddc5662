"""The head's queue page (/work/queue/): what waits in their departments' queues, in Next's order,
and an item given to a manager by hand. Heads and administrators only (managers get 403: Next
serves them; they do not browse the queue)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from okno.core.errors import ApiError, FieldError
from okno.work.board import board_departments, may_see_board
from okno.work.booking import workitem_assign
from okno.work.models import WorkItem
from okno.work.queue_view import queue_view_for


def _department_id(request: HttpRequest) -> int | None:
    raw = request.GET.get("department", "") or request.POST.get("department", "")
    return int(raw) if raw.isdigit() else None


@login_required
def queue_page(request: HttpRequest) -> HttpResponse:
    if not may_see_board(request.user):
        raise PermissionDenied
    department_id = _department_id(request)
    try:
        view = queue_view_for(actor=request.user, department_id=department_id)
    except ApiError as exc:
        raise Http404(exc.detail) from exc
    return render(request, "work/queue.html", {"view": view, "department_id": department_id})


@login_required
@require_POST
def queue_assign(request: HttpRequest, pk: int) -> HttpResponse:
    """Gives a queue item to the chosen person (workitem_assign: their day's capacity checked)."""
    if not may_see_board(request.user):
        raise PermissionDenied
    item = get_object_or_404(WorkItem, pk=pk, department_id__in=board_departments(request.user))
    raw = request.POST.get("assignee", "")
    try:
        item = workitem_assign(actor=request.user, item=item, assignee_id=int(raw) if raw.isdigit() else None)
    except FieldError:
        messages.error(request, _("Choose a person you may give work to."))
    except ApiError as exc:
        free = exc.extra.get("next_free_day")
        messages.error(request, (_("%(reason)s. The first free day: %(day)s.") % {"reason": exc.detail, "day": free})
                       if free else exc.detail)
    else:
        messages.success(request, _("%(what)s is %(name)s's now.") % {
            "what": item.title or item.get_kind_display(), "name": item.assignee.display_name})
    department_id = _department_id(request)
    url = reverse("work:queue")
    return redirect(f"{url}?department={department_id}" if department_id else url)


