"""The calls list page (/telephony/calls/): the calls behind a figure of the calls report, or any
calls one may count, filtered and paged; each call links to its card."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from okno.contacts.models import Contact, Tag
from okno.core.errors import ApiError
from okno.core.reasons import reason_text
from okno.people.models import Department, User
from okno.telephony.call_list import FILTER_PARAMS, NONE, CallFilter, call_filter_parse, calls_list_for_staff
from okno.telephony.models import Call

PER_PAGE = 50
OUTCOME_LABELS = {"answered": _("answered"), "successful": _("successful"), "missed": _("missed"),
                  "called_back": _("missed, called back"), "missed_not_called_back": _("missed, not called back"),
                  "machine": _("answering machine"), "voicemail": _("voicemail")}
# The common questions as buttons: one click from the list of everything.
QUICK_OUTCOMES = ("missed", "missed_not_called_back", "successful")


def _pickable(user) -> tuple:
    """The employees and departments the viewer may filter by (as the report offers them)."""
    users = User.objects.filter(is_active=True).order_by("last_name", "first_name", "username")
    departments = Department.objects.order_by("name")
    if user.is_admin:
        return users, departments
    if user.role == User.Role.HEAD and user.department_id is not None:
        tree = user.department.subtree_ids()
        return users.filter(department_id__in=tree), departments.filter(pk__in=tree)
    return users.filter(pk=user.pk), departments.none()


@login_required
def calls_list(request: HttpRequest) -> HttpResponse:
    params = request.GET.copy()
    params.pop("page", None)
    if not params.get("from") and not params.get("to"):
        today = timezone.localdate()
        params.update({"from": today.replace(day=1).isoformat(), "to": today.isoformat()})
    error, status, page = "", 200, None
    try:
        f = call_filter_parse(params)
    except ApiError as exc:
        error = "; ".join(f"{e['field']}: {reason_text(e['reason'])}" for e in exc.errors) or exc.detail
        status, f = exc.status, CallFilter()
    if not error:
        page = Paginator(calls_list_for_staff(user=request.user, f=f), PER_PAGE).get_page(request.GET.get("page"))
    users, departments = _pickable(request.user)
    base = params.copy()
    base.pop("outcome", None)
    client = Contact.objects.filter(pk=f.client).first() if isinstance(f.client, int) else None
    return render(request, "telephony/calls.html", {
        "page": page, "error": error, "params": params, "f": f, "query": params.urlencode(),
        "outcomes": OUTCOME_LABELS, "chosen_outcomes": list(params.getlist("outcome")),
        "quick": [(OUTCOME_LABELS[o], f"{base.urlencode()}&outcome={o}", list(f.outcomes) == [o])
                  for o in QUICK_OUTCOMES],
        "all_query": base.urlencode(), "directions": Call.Direction.choices, "users": users,
        "departments": departments, "tags": Tag.objects.order_by("name")[:200], "client": client, "none": NONE,
        "filter_params": FILTER_PARAMS,
    }, status=status)
