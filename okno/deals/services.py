"""Leads: opening one per new conversation, and routing it to a person."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from okno.contacts.models import Contact
from okno.core import events
from okno.deals.models import Lead
from okno.people.models import Department, User


def lead_open_for_contact(*, contact: Contact) -> Lead | None:
    """The customer's newest open lead: a new message attaches to it instead of opening another."""
    return Lead.objects.filter(contact=contact, status__in=Lead.OPEN).order_by("-created_at", "-id").first()


def route_scope(channel) -> bool:
    """Whether a channel's round robin reaches its department's sub-departments (the default).

    A sales department is often a head with teams below: routing to direct members only sent
    every lead of such a department to its head. A channel narrows it with the setting
    `route_subdepartments: false` (the channel's form, "Route to sub-departments too")."""
    return bool((channel.settings or {}).get("route_subdepartments", True)) if channel is not None else True


def _department_ids(department_id: int, subdepartments: bool) -> list[int]:
    if not subdepartments:
        return [department_id]
    department = Department.objects.filter(pk=department_id).first()
    return department.subtree_ids() if department else [department_id]


def _members_at_work(department_id: int, *, subdepartments: bool = True, heads: bool = False):
    """Who takes leads: managers and operators at work in the department (and, by default, the
    departments below it). Heads of department only when none of those is at work: a head
    supervises the queue and takes it over when the team is away, as in Bitrix24's queues."""
    roles = [User.Role.HEAD] if heads else [User.Role.MANAGER, User.Role.OPERATOR]
    return User.objects.filter(department_id__in=_department_ids(department_id, subdepartments),
                               is_active=True, at_work=True, role__in=roles)


def _round_robin(department_id: int, *, subdepartments: bool = True) -> User | None:
    """The member at work who was given a lead longest ago (never = first); heads when no
    manager or operator is at work."""
    user = None
    for heads in (False, True):
        qs = _members_at_work(department_id, subdepartments=subdepartments, heads=heads).order_by(
            F("last_lead_at").asc(nulls_first=True), "pk")
        if settings.IS_POSTGRES:
            # Two workers routing at once must not both pick the same person; when every member is
            # being routed to by another worker right now, wait for them rather than skip the queue.
            user = qs.select_for_update(skip_locked=True).first() or qs.select_for_update().first()
        else:
            user = qs.first()
        if user is not None:
            break
    if user is not None:
        User.objects.filter(pk=user.pk).update(last_lead_at=timezone.now())
    return user


def _round_robin_many(department_id: int, count: int, *, subdepartments: bool = True) -> list[User | None]:
    """`count` turns of `_round_robin` at once: the same people in the same order."""
    members = []
    for heads in (False, True):
        qs = _members_at_work(department_id, subdepartments=subdepartments, heads=heads).order_by("pk")
        if settings.IS_POSTGRES:
            qs = qs.select_for_update()  # in pk order, so concurrent batches cannot deadlock
        members = sorted(qs, key=lambda u: (u.last_lead_at is not None, u.last_lead_at or timezone.now(), u.pk))
        if members:
            break
    if not members:
        return [None] * count
    chosen = [members[i % len(members)] for i in range(count)]
    now, last_turn = timezone.now(), {}
    for i, user in enumerate(chosen):
        # A microsecond per turn keeps the order for the next batch: whoever got the last
        # lead of this one is the last in line.
        last_turn[user.pk] = now + timedelta(microseconds=i)
    _last_turns_save(last_turn)
    return chosen


def _last_turns_save(last_turn: dict[int, datetime]) -> None:
    """Each member's new `last_lead_at`, for a whole batch at once.

    An UPDATE per member was most of a batch's routing when the department is a call centre
    (500 at work: 200 statements per 200 leads), and Django's bulk_update builds a CASE
    expression of every row in Python (65 ms a batch). PostgreSQL takes the pairs as two arrays
    in one statement; SQLite runs in the process, where a prepared statement per row is cheap."""
    table = User._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"UPDATE {table} AS u SET last_lead_at = t.at FROM unnest(%s::bigint[], "
                           f"%s::timestamptz[]) AS t(id, at) WHERE u.id = t.id",
                           [list(last_turn), list(last_turn.values())])
        else:
            adapt = connection.ops.adapt_datetimefield_value
            cursor.executemany(f"UPDATE {table} SET last_lead_at = %s WHERE id = %s",
                               [(adapt(at), pk) for pk, at in last_turn.items()])


def lead_assignees_for_new_customers(*, channel, count: int) -> list[tuple[User | None, str]]:
    """`lead_route` for `count` customers without a responsible manager, at once: (assignee, how)."""
    turns: list[User | None] = [None] * count
    how = ["unassigned"] * count
    if channel is not None and channel.department_id:
        turns = _round_robin_many(channel.department_id, count, subdepartments=route_scope(channel))
        how = ["round_robin" if user else "unassigned" for user in turns]
    if channel is not None and channel.fallback_user_id:
        how = ["fallback" if user is None else h for user, h in zip(turns, how, strict=True)]
        turns = [user or channel.fallback_user for user in turns]
    return list(zip(turns, how, strict=True))


@transaction.atomic
def lead_route(*, lead: Lead, channel) -> Lead:
    """The customer's responsible manager; else round-robin among the managers and operators at
    work now in the channel's department and (unless the channel says otherwise) below it, or
    its heads when none of them is; else the channel's fallback queue; else it waits unassigned."""
    contact = lead.contact
    assignee, how = None, "unassigned"
    if contact.responsible_id and contact.responsible.is_active:
        assignee, how = contact.responsible, "responsible"
    elif channel is not None and channel.department_id:
        assignee = _round_robin(channel.department_id, subdepartments=route_scope(channel))
        how = "round_robin" if assignee else how
    if assignee is None and channel is not None and channel.fallback_user_id:
        assignee, how = channel.fallback_user, "fallback"
    lead.assignee, lead.routed_by = assignee, how
    lead.department_id = (assignee.department_id if assignee else None) or (channel.department_id if channel else None)
    lead.save(update_fields=["assignee", "routed_by", "department", "updated_at"])
    if assignee is not None and not contact.responsible_id:
        # The first person to take the customer up becomes responsible for the card.
        Contact.objects.filter(pk=contact.pk, responsible__isnull=True).update(
            responsible=assignee, department_id=assignee.department_id or contact.department_id)
    return lead


@transaction.atomic
def lead_create(*, contact: Contact, channel=None, conversation=None, title: str = "", source: str = "",
                utm: dict | None = None) -> Lead:
    """A new lead, routed; publishes `lead.created` (robots' lead deadlines, webhooks) once routed."""
    lead = Lead.objects.create(contact=contact, channel=channel, conversation=conversation, title=title[:300],
                               source=source, utm=utm or {})
    lead = lead_route(lead=lead, channel=channel)
    events.publish("lead.created", subject=lead, data=lead_event_data(lead), at=lead.created_at)
    return lead


def leads_created_publish(*, leads) -> None:
    """`lead.created` for leads a batch path inserted without `lead_create` (the inbox drain's
    `insert_rows`): call it in the same transaction, with the inserted leads loaded."""
    for lead in leads:
        events.publish("lead.created", subject=lead, data=lead_event_data(lead), at=lead.created_at)


def lead_event_data(lead: Lead) -> dict:
    """The JSON of `lead.created` (also for batch paths that insert leads without this service)."""
    return {"lead_id": lead.pk, "contact_id": lead.contact_id, "channel_id": lead.channel_id,
            "conversation_id": lead.conversation_id, "title": lead.title, "source": lead.source, "utm": lead.utm,
            "assignee_id": lead.assignee_id, "department_id": lead.department_id, "routed_by": lead.routed_by,
            "at": lead.created_at.isoformat()}
