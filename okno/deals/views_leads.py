"""Leads for heads and administrators (every lead they may see, filtered, reassigned in bulk),
and the lead's end from its row or the card: convert to a deal, or close as lost.

Reads go through `okno.deals.selectors.leads_visible` (another department's lead is 404) and
writes through `okno.deals.lead_services`; these views parse the form and say what happened.
"""

from datetime import datetime, time, timedelta

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from okno.core.errors import FieldError
from okno.core.navigation import heads_and_admins
from okno.core.paging import ids_of
from okno.core.reasons import reason_text
from okno.core.redirects import safe_next
from okno.deals.lead_services import lead_convert, lead_lose, lead_reassign
from okno.deals.models import Lead, LostReason
from okno.deals.selectors import lead_get, leads_visible, pipelines_visible
from okno.deals.views_board import refusal_text
from okno.inbox.models import Channel
from okno.people.models import User
from okno.people.visibility import users_visible_to

PAGE_SIZE = 50
COUNT_CAP = 10_000
UNASSIGNED = "none"


def assignable_users(actor: User) -> QuerySet[User]:
    return (User.objects.filter(users_visible_to(actor), is_active=True).select_related("department")
            .order_by("last_name", "first_name", "username"))


class LeadFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), required=False)
    channel = forms.ModelChoiceField(label=_("Channel"), queryset=Channel.objects.order_by("name"), required=False,
                                     empty_label=_("Any channel"))
    assignee = forms.ChoiceField(label=_("Assignee"), required=False)
    created_from = forms.DateField(label=_("Received from"), required=False,
                                   widget=forms.DateInput(attrs={"type": "date"}))
    created_to = forms.DateField(label=_("to"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, users: list[User], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("open", _("Open")), ("", _("Any status")), *Lead.Status.choices]
        self.fields["assignee"].choices = [("", _("Anyone")), (UNASSIGNED, _("Unassigned (the queue)")),
                                           *[(str(u.pk), u.display_name) for u in users]]

    def apply(self, qs: QuerySet[Lead]) -> QuerySet[Lead]:
        data = self.cleaned_data
        if data.get("status") == "open":
            # As a CASE, not `status IN (...)`: half the table is open, and SQLite (no statistics)
            # walked the status index and sorted 100,000 rows for a page of 50 (0.8 s); this way it
            # walks created_at newest first and stops at the page (PostgreSQL plans it the same).
            qs = qs.alias(is_open=Case(When(status__in=Lead.OPEN, then=Value(1)), default=Value(0),
                                       output_field=IntegerField())).filter(is_open=1)
        elif data.get("status"):
            qs = qs.filter(status=data["status"])
        if data.get("channel"):
            qs = qs.filter(channel=data["channel"])
        if data.get("assignee") == UNASSIGNED:
            qs = qs.filter(assignee__isnull=True)
        elif data.get("assignee"):
            qs = qs.filter(assignee_id=int(data["assignee"]))
        tz = timezone.get_current_timezone()
        if data.get("created_from"):
            qs = qs.filter(created_at__gte=timezone.make_aware(datetime.combine(data["created_from"], time.min), tz))
        if data.get("created_to"):
            end = data["created_to"] + timedelta(days=1)
            qs = qs.filter(created_at__lt=timezone.make_aware(datetime.combine(end, time.min), tz))
        return qs


class CappedPaginator(Paginator):
    """Counts at most COUNT_CAP rows (a COUNT over 200,000 visible leads cost more than the page):
    beyond it the page says "10,000+" and the filters narrow the list."""

    @cached_property
    def count(self) -> int:
        return self.object_list.order_by()[:COUNT_CAP + 1].count()

    @property
    def capped(self) -> bool:
        return self.count > COUNT_CAP


def _next(request: HttpRequest, default: str) -> str:
    return safe_next(request, default)


def lead_end_choices(user: User) -> dict:
    """What the convert and lose forms offer: the pipelines the user may use, the active reasons."""
    return {"pipelines": list(pipelines_visible(user=user)), "lost_reasons": list(LostReason.objects.filter(
        is_active=True))}


@login_required
def leads_all(request: HttpRequest) -> HttpResponse:
    """Every lead a head or administrator may see, filtered; bulk reassign from the same page."""
    if not heads_and_admins(request.user):
        raise PermissionDenied("Only heads and administrators see all leads")
    users = list(assignable_users(request.user))
    data = request.GET.copy()
    data.setdefault("status", "open")
    form = LeadFilterForm(data, users=users)
    qs = leads_visible(user=request.user).select_related("contact", "channel", "assignee", "department", "lost_reason")
    qs = form.apply(qs) if form.is_valid() else qs.none()
    page = CappedPaginator(qs.order_by("-created_at", "-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    query = data.copy()
    query.pop("page", None)
    return render(request, "deals/leads_all.html", {
        "form": form, "page": page, "users": users, "query": query.urlencode(), "count_cap": COUNT_CAP,
        **lead_end_choices(request.user)})


@login_required
@require_POST
def leads_reassign(request: HttpRequest) -> HttpResponse:
    """The ticked leads to one person, or back to their department's queue."""
    back = _next(request, reverse("deals:leads_all"))
    ids = ids_of(request.POST.getlist("lead"))
    choice = request.POST.get("assignee", "")
    if not ids:
        messages.error(request, gettext("Tick the leads to reassign."))
        return redirect(back)
    if choice == UNASSIGNED:
        assignee = None
    elif choice.isdigit() and (assignee := assignable_users(request.user).filter(pk=int(choice)).first()):
        pass
    else:
        messages.error(request, gettext("Choose whom to give the leads to."))
        return redirect(back)
    try:
        changed = lead_reassign(actor=request.user, leads=ids, assignee=assignee)
    except FieldError as e:
        messages.error(request, "; ".join(reason_text(err["reason"]) for err in e.errors))
        return redirect(back)
    if assignee is None:
        messages.success(request, ngettext("%(n)s lead returned to the queue.", "%(n)s leads returned to the queue.",
                                           changed) % {"n": changed})
    else:
        messages.success(request, ngettext("%(n)s lead given to %(name)s.", "%(n)s leads given to %(name)s.",
                                           changed) % {"n": changed, "name": assignee.display_name})
    return redirect(back)


def _deal_url(deal) -> str | None:
    try:
        return reverse("deals:deal", args=[deal.pk])
    except NoReverseMatch:  # the deal page is built by another part of issue 12
        return None


@login_required
@require_POST
def lead_convert_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Convert to a deal in the chosen pipeline; then to the deal's page."""
    lead = lead_get(user=request.user, pk=pk)
    back = _next(request, reverse("contacts:card", args=[lead.contact_id]))
    raw = request.POST.get("pipeline", "")
    pipeline = pipelines_visible(user=request.user).filter(pk=int(raw)).first() if raw.isdigit() else None
    if pipeline is None:
        messages.error(request, gettext("Choose a pipeline."))
        return redirect(back)
    try:
        deal = lead_convert(actor=request.user, lead=lead, pipeline=pipeline)
    except FieldError as e:
        # Fields named by their labels ("“Delivery date”: required before entering “New”").
        messages.error(request, gettext("The lead was not converted: %(why)s") % {"why": refusal_text(pipeline, e)})
        return redirect(back)
    messages.success(request, gettext("Lead converted to the deal “%(deal)s” in %(pipeline)s.") % {
        "deal": deal.title, "pipeline": pipeline.name})
    return redirect(_deal_url(deal) or back)


@login_required
@require_POST
def lead_lose_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Close as lost with a reason from the list."""
    lead = lead_get(user=request.user, pk=pk)
    back = _next(request, reverse("contacts:card", args=[lead.contact_id]))
    reason = request.POST.get("reason", "")
    try:
        lead = lead_lose(actor=request.user, lead=lead, reason=int(reason) if reason.isdigit() else reason)
    except FieldError as e:
        messages.error(request, gettext("The lead was not closed: %(why)s") % {
            "why": "; ".join(reason_text(err["reason"]) for err in e.errors)})
        return redirect(back)
    messages.success(request, gettext("Lead closed as lost: %(reason)s.") % {"reason": lead.lost_reason})
    return redirect(back)


@login_required
def leads_for_contact(request: HttpRequest, contact_id: int) -> HttpResponse:
    """The card's panel of the customer's open leads, loaded by the card with hx-get (the card
    imports no deals code). Empty when there is none the user may see."""
    leads = list(leads_visible(user=request.user).filter(contact_id=contact_id, status__in=Lead.OPEN)
                 .select_related("channel", "assignee").order_by("-created_at", "-id")[:20])
    context = {"leads": leads, "contact_id": contact_id}
    if leads:
        context.update(lead_end_choices(request.user))
    return render(request, "deals/leads_for_contact.html", context)
