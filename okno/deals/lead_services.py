"""Leads end somewhere: converted to a deal, or closed as lost with a reason; reassigned in bulk.

Also the administrator's list of lost reasons (shared by leads and deals).
"""

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Max, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from okno.core import events
from okno.core.access import require_admin
from okno.core.errors import FieldError
from okno.deals.deal_services import _lost_reason, deal_create, deal_data_clean
from okno.deals.models import Deal, Lead, LostReason, Pipeline
from okno.deals.selectors import leads_visible
from okno.people.models import User
from okno.people.visibility import users_visible_to
from okno.timeline.models import Activity
from okno.timeline.services import activity_record


def _close(lead: Lead, status: str, **fields) -> Lead:
    """Closes an open lead by conditional UPDATE: of two people converting it at once, one wins."""
    now = timezone.now()
    if Lead.objects.filter(pk=lead.pk, status__in=Lead.OPEN).update(status=status, closed_at=now,
                                                                    updated_at=now, **fields) != 1:
        raise FieldError({"lead": "this lead is closed already"})
    lead.refresh_from_db()
    return lead


@transaction.atomic
def lead_convert(*, actor: User | None, lead: Lead, pipeline: Pipeline, data: dict | None = None,
                 via: str = "user") -> Deal:
    """Turns an open lead into a deal in `pipeline`'s first open stage (or `data["stage_id"]`).

    The deal carries the lead's contact, the contact's company, source, UTM, conversation and
    title (the lead's, else the customer's name); its responsible is the lead's assignee, else
    the contact's. `data` may override any deal field (amount, title, responsible_id, lines...).
    The lead becomes CONVERTED with closed_at. Publishes `deal.created` (via deal_create) and
    `lead.converted` {lead_id, deal_id}."""
    if lead.status not in Lead.OPEN:
        raise FieldError({"lead": "this lead is closed already"})
    contact = lead.contact
    raw = {"title": lead.title or str(contact) or f"Lead #{lead.pk}", "contact_id": contact.pk,
           "source": lead.source, "utm": lead.utm or {}}
    if lead.assignee_id and lead.assignee.is_active:
        raw["responsible_id"] = lead.assignee_id
    if contact.company_id:
        raw["company_id"] = contact.company_id
    raw.update(data or {})
    # Validated as the system: the lead's own contact and assignee may lie outside what the
    # converting head sees (an unassigned queue); what `data` adds is checked against the actor.
    clean = deal_data_clean(raw, pipeline=pipeline, actor=None)
    if data:
        deal_data_clean({k: v for k, v in data.items() if k != "title"} | {"title": clean.title}, pipeline=pipeline,
                        actor=actor)
    lead = _close(lead, Lead.Status.CONVERTED)
    deal = deal_create(actor=actor, pipeline=pipeline, data=clean, via=via, lead=lead,
                       conversation=lead.conversation)
    events.publish("lead.converted", subject=lead, actor=actor, data={
        "lead_id": lead.pk, "deal_id": deal.pk, "contact_id": lead.contact_id,
        "actor_id": actor.pk if actor else None, "at": lead.closed_at.isoformat()})
    return deal


@transaction.atomic
def lead_lose(*, actor: User | None, lead: Lead, reason: str | int) -> Lead:
    """Closes an open lead as lost with a reason from the list (by id or name; unknown: refused),
    noted on the customer's timeline."""
    if reason is None or (isinstance(reason, str) and not reason.strip()):
        raise FieldError({"reason": "required"})
    try:
        lost_reason = _lost_reason(reason)
    except FieldError:
        raise FieldError({"reason": "no such reason"}) from None
    lead = _close(lead, Lead.Status.LOST, lost_reason=lost_reason)
    activity_record(contact=lead.contact, kind=Activity.Kind.SYSTEM, author=actor,
                    summary=_("Lead “%(title)s” closed as lost: %(reason)s") % {
                        "title": lead.title or lead.pk, "reason": lost_reason.name})
    events.publish("lead.lost", subject=lead, actor=actor, data={
        "lead_id": lead.pk, "contact_id": lead.contact_id, "lost_reason_id": lost_reason.pk,
        "reason": lost_reason.name, "actor_id": actor.pk if actor else None, "at": lead.closed_at.isoformat()})
    return lead


@transaction.atomic
def lead_reassign(*, actor: User, leads: QuerySet[Lead] | list[int], assignee: User | None) -> int:
    """Gives many leads to one person (or back to the queue: None), at once. Heads and
    administrators only, within the leads they see and to people they may assign; the lead's
    department follows the assignee. Returns how many leads changed."""
    if not (actor.is_admin or actor.role == User.Role.HEAD):
        raise PermissionDenied("Only heads and administrators reassign leads")
    if assignee is not None and not User.objects.filter(users_visible_to(actor), pk=assignee.pk,
                                                         is_active=True).exists():
        raise FieldError({"assignee_id": "no such user you may assign"})
    ids = list(leads.values_list("pk", flat=True)) if isinstance(leads, QuerySet) else list(leads)
    qs = leads_visible(user=actor).filter(pk__in=ids, status__in=Lead.OPEN)
    fields = {"assignee": assignee, "routed_by": "manual" if assignee else "unassigned",
              "updated_at": timezone.now(), "read_at": None}
    if assignee is not None and assignee.department_id:
        fields["department_id"] = assignee.department_id
    changed = list(qs.values_list("pk", flat=True))
    count = Lead.objects.filter(pk__in=changed, status__in=Lead.OPEN).update(**fields)
    lead_updated_publish(leads=Lead.objects.filter(pk__in=changed))
    return count


def lead_updated_publish(*, leads) -> None:
    """The internal `lead.updated` (never delivered to webhooks) for leads a bulk write changed
    (reassigned; a robots' deadline missed): the process report's rollup marks the day of one it
    may hold (okno.analytics.process_rollup). Call it in the writer's transaction."""
    for lead in leads:
        events.publish("lead.updated", subject=lead, internal=True, data={
            "lead_id": lead.pk, "assignee_id": lead.assignee_id, "department_id": lead.department_id})


def _reason_name(value, errors: dict[str, str]) -> str:
    if not isinstance(value, str) or not value.strip():
        errors["name"] = "required"
        return ""
    if len(value.strip()) > 200:
        errors["name"] = "must be 1 to 200 characters"
    return value.strip()


@transaction.atomic
def lost_reason_create(*, actor: User, name: str, position: int | None = None) -> LostReason:
    require_admin(actor, "Only an administrator edits the lost reasons")
    errors: dict[str, str] = {}
    name = _reason_name(name, errors)
    if not errors and any(r.casefold() == name.casefold() for r in LostReason.objects.values_list("name", flat=True)):
        errors["name"] = "this name is taken"
    if errors:
        raise FieldError(errors)
    if position is None:
        position = (LostReason.objects.aggregate(m=Max("position"))["m"] or 0) + 1
    return LostReason.objects.create(name=name, position=position)


@transaction.atomic
def lost_reason_update(*, actor: User, reason: LostReason, data: dict) -> LostReason:
    """Renames, reorders or retires a reason (retired: kept on closed leads, no longer offered)."""
    require_admin(actor, "Only an administrator edits the lost reasons")
    errors: dict[str, str] = {}
    if "name" in data:
        name = _reason_name(data["name"], errors)
        if not errors and any(r.casefold() == name.casefold() for r in
                              LostReason.objects.exclude(pk=reason.pk).values_list("name", flat=True)):
            errors["name"] = "this name is taken"
        reason.name = name
    if "position" in data:
        if not isinstance(data["position"], int) or isinstance(data["position"], bool):
            errors["position"] = "must be a number"
        else:
            reason.position = data["position"]
    if "is_active" in data:
        if not isinstance(data["is_active"], bool):
            errors["is_active"] = "must be true or false"
        else:
            reason.is_active = data["is_active"]
    if errors:
        raise FieldError(errors)
    reason.save()
    return reason
