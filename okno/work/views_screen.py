"""The manager screen (/work/screen/): one page kept open all day. Next brings the item with the
customer's whole world and starts the call; an outcome closes it and schedules what follows;
wrap-up, then the next one. Views parse, call one service of okno/work/screen.py and render."""

from datetime import datetime

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_GET, require_POST

from okno.contacts.models import ContactPhone
from okno.contacts.selectors import contacts_visible
from okno.contacts.services import contact_data_clean, contact_update
from okno.core.errors import ApiError, FieldError
from okno.core.reasons import reason_text
from okno.work import screen
from okno.work.models_states import AgentStatus
from okno.work.queue import Outcome
from okno.work.screen_world import screen_call, screen_counters, screen_world
from okno.work.selectors import work_items_visible
from okno.work.states import agent_state_of

# The screen's own refusals, offered for translation (shown through `_reason`).
REASONS = [
    gettext_noop("required for call_back"),
    gettext_noop("is in the past"),
    gettext_noop("is more than 5 years ahead"),
    gettext_noop("not a deal of this item's customer"),
    gettext_noop("the deal is closed already"),
    gettext_noop("the deal's pipeline has no lost stage"),
    gettext_noop("required: the item's deal is closed as lost with a reason"),
    gettext_noop("required: the item's lead is closed as lost with a reason"),
    gettext_noop("must be a date and time"),
    gettext_noop("the contact has no phone number"),
    gettext_noop("you have no extension on a PBX that can place calls"),
    gettext_noop("give contact_id or number"),
]


def _reason(reason: str) -> str:
    translated = _(reason)
    return translated if translated != reason else reason_text(reason)


def _state_context(request: HttpRequest) -> dict:
    state = agent_state_of(request.user)
    return {"state": state, "counters": screen_counters(user=request.user),
            "wrap_up_seconds": screen.wrap_up_seconds_for(request.user)}


def _item_context(request: HttpRequest, item, **extra) -> dict:
    return {**screen_world(user=request.user, item=item), **_state_context(request), **extra,
            "outcomes": Outcome.ALL, "phone_kinds": ContactPhone.Kind.choices}


def _panel(request: HttpRequest, context: dict) -> HttpResponse:
    """The item panel, with the state bar and counters swapped out of band (htmx)."""
    return render(request, "work/screen_item.html", {**context, "oob": True})


@login_required
@require_GET
def screen_page(request: HttpRequest) -> HttpResponse:
    current = screen.screen_current(user=request.user)
    if current is None:
        context = {**_state_context(request), "item": None}
    else:
        item, state = current
        context = _item_context(request, item, wrap_up=state == AgentStatus.WRAP_UP)
    return render(request, "work/screen.html", context)


@login_required
@require_POST
def screen_next(request: HttpRequest) -> HttpResponse:
    try:
        opened = screen.screen_next(actor=request.user)
    except ApiError as exc:  # no department, so no queue
        return _panel(request, {**_state_context(request), "item": None, "error": exc.detail})
    if opened.item is None:
        return _panel(request, {**_state_context(request), "item": None, "nothing_due": True})
    return _panel(request, _item_context(request, opened.item, call_error=_reason(opened.call_error)
                                         if opened.call_error else ""))


def _parse_next_at(raw: str) -> datetime | None:
    """A `datetime-local` input's value, in the company's time zone; None when empty or not a time."""
    try:
        value = parse_datetime((raw or "").strip())
    except ValueError:
        return None
    if value is not None and timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


@login_required
@require_POST
def screen_outcome(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(work_items_visible(request.user).select_related("contact", "lead", "deal"), pk=pk)
    post = request.POST
    outcome = post.get("outcome", "")
    next_at = _parse_next_at(post.get("next_at", ""))
    lose = post.get("lose", "")
    typed = {"note": post.get("note", ""), "next_at_typed": post.get("next_at", ""),
             "lost_reason_typed": post.get("lost_reason", ""), "lose_typed": lose}
    errors: dict[str, str] = {}
    if outcome == Outcome.CALL_BACK and post.get("next_at") and next_at is None:
        errors["next_at"] = _reason("must be a date and time")
    if not errors:
        try:
            screen.screen_outcome(actor=request.user, item=item, outcome=outcome, note=post.get("note", ""),
                                  next_at=next_at, lost_reason=post.get("lost_reason") or None,
                                  lose_deal_id=int(lose) if lose.isdigit() else None)
        except FieldError as exc:
            errors = {field: _reason(reason) for field, reason in exc.by_field.items()}
        except ApiError as exc:
            # 409 with next_free_day: the day is full; the panel offers the free day in one click.
            extra = {"outcome_error": exc.detail, "next_free_day": exc.extra.get("next_free_day")}
            return _panel(request, _item_context(request, item, **typed, **extra))
        else:
            item.refresh_from_db()
            return _panel(request, _item_context(request, item, wrap_up=True, closed_outcome=outcome))
    return _panel(request, _item_context(request, item, outcome_errors=errors, failed_outcome=outcome, **typed))


@login_required
@require_POST
def screen_break(request: HttpRequest) -> HttpResponse:
    screen.screen_break(actor=request.user)
    return _panel(request, {**_state_context(request), "item": None, "on_break": True})


@login_required
@require_GET
def screen_counters_view(request: HttpRequest) -> HttpResponse:
    return render(request, "work/_screen_counters.html", {"counters": screen_counters(user=request.user)})


@login_required
@require_GET
def screen_call_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The item's call as it is now (polled while it rings, and on the push stream's `call`)."""
    item = get_object_or_404(work_items_visible(request.user), pk=pk)
    return render(request, "work/_screen_call.html", {"item": item, **screen_call(user=request.user, item=item)})


def _contact_raw(post) -> dict:
    """The in-place form's fields as the contacts service reads them (a partial update: only
    what the form shows)."""
    phones = [{"number": n, "kind": k} for n, k in zip(post.getlist("phone"), post.getlist("phone_kind"), strict=False)
              if n.strip()]
    return {"first_name": post.get("first_name", ""), "last_name": post.get("last_name", ""),
            "middle_name": post.get("middle_name", ""), "city": post.get("city", ""), "phones": phones,
            "emails": [e for e in post.getlist("email") if e.strip()]}


@login_required
def screen_contact(request: HttpRequest, pk: int) -> HttpResponse:
    """The customer's details on the screen, edited in place through the contacts service."""
    contact = contacts_visible(user=request.user).filter(pk=pk).first()
    if contact is None:
        raise Http404("No such contact")
    context = {"contact": contact, "phone_kinds": ContactPhone.Kind.choices}
    if request.method == "POST":
        try:
            data = contact_data_clean(_contact_raw(request.POST), actor=request.user, partial=True)
            if not (data.first_name or data.last_name or data.phones or data.emails):
                raise FieldError({"first_name": "a contact needs a name, a phone or an e-mail"})
            contact = contact_update(actor=request.user, contact=contact, data=data)
        except FieldError as exc:
            context.update(editing=True, errors={f: reason_text(r) for f, r in exc.by_field.items()},
                           typed=request.POST)
        else:
            context.update(contact=contact, saved=True)
    else:
        context["editing"] = request.GET.get("edit") == "1"
    context.update(phones=list(contact.phones.all()), emails=list(contact.emails.all()))
    return render(request, "work/_screen_contact.html", context)
