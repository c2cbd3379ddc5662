"""The inbound drain's batch path: a flood of new customers in a handful of queries.

`drain.process_event` records one event per transaction, about 35 queries each: right for a
customer writing again, far too slow for a flood of new ones (a campaign's web forms, a busy
chat widget), about 15 events/s per worker on PostgreSQL. Most events of such a flood are
independent of everything else: a sender no card knows, a thread never seen, and nothing else in
the batch sharing either. For those this module writes the very rows `inbound_item_record`
would (the card with its phones, e-mails, handles, history and blocking keys; the conversation
with its facts; the message; the timeline entry; the lead, routed round-robin in the same order)
in bulk, in one transaction.

Everything else (a known customer, a thread with history, events related to each other within
the batch, an event that does not parse) is left to `process_event`, one at a time and in order,
after this part has committed. When the bulk write fails, all of it rolls back and its events
take the one-by-one path too, so one bad event still never holds back or rolls back the others.
"""

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models.functions import Lower
from django.utils import timezone

from okno.contacts.identify import identity_keys, identity_keys_known, new_contact_data
from okno.contacts.import_bulk import contacts_bulk_create
from okno.contacts.services import ContactData
from okno.core.bulk import insert_rows
from okno.deals.models import Lead
from okno.deals.services import lead_assignees_for_new_customers, leads_created_publish
from okno.inbox import adapters
from okno.inbox.items import InboundItem
from okno.inbox.models import Channel, Conversation, InboundEvent, Message
from okno.inbox.services import (
    ACTIVITY_KIND,
    activity_summary,
    chat_finished_publish,
    conversation_changed_publish,
    conversation_facts_set,
    identity_of,
    lead_title,
)
from okno.people.models import User
from okno.timeline.models import Activity

log = logging.getLogger(__name__)


@dataclass
class _Fresh:
    event: InboundEvent
    item: InboundItem
    data: ContactData
    at: datetime  # when the conversation started and its first message was sent


def _parsed(event: InboundEvent) -> list[InboundItem] | None:
    adapter = adapters.get(event.channel.kind)
    try:
        return adapter.parse_event(event) if adapter is not None else None
    except Exception:  # noqa: BLE001 - the one-by-one path records why, with the event's status
        return None


def _independent(events: list[InboundEvent]) -> list[tuple[InboundEvent, InboundItem, set]]:
    """Events of one item opening a new thread for a sender no card and no other event shares."""
    parsed = []
    for event in events:
        items = _parsed(event)
        if items is None or not all(isinstance(i, InboundItem) for i in items):
            continue
        keys = set().union(*(identity_keys(identity_of(i)) for i in items)) if items else set()
        threads = {(event.channel_id, i.thread_id) for i in items if i.thread_id}
        parsed.append((event, items, keys, threads))
    shared = Counter(k for _, _, keys, threads in parsed for k in (*keys, *threads))
    found = [
        (event, items[0], keys) for event, items, keys, threads in parsed
        if len(items) == 1 and items[0].thread_id and items[0].opens_lead and not items[0].thread_refs
        and all(shared[k] == 1 for k in (*keys, *threads))
    ]
    if not found:
        return []
    known = identity_keys_known(set().union(*(keys for _, _, keys in found)))
    threads = {e.channel_id: set() for e, _, _ in found}
    for channel_id, external_id in Conversation.objects.filter(
            channel_id__in=list(threads), external_id__in=sorted({i.thread_id for _, i, _ in found})
    ).values_list("channel_id", "external_id"):
        threads[channel_id].add(external_id)
    return [(e, i, keys) for e, i, keys in found if not keys & known and i.thread_id not in threads[e.channel_id]]


def _operators(items: list[InboundItem]) -> dict[str, User]:
    emails = {i.operator_email.lower() for i in items if i.operator_email}
    if not emails:
        return {}
    found: dict[str, User] = {}
    users = (User.objects.annotate(email_lower=Lower("email")).filter(email_lower__in=sorted(emails), is_active=True)
             .order_by("-pk"))
    for user in users:
        found[user.email_lower] = user  # the lowest pk wins, as .first() in the one-by-one path
    return found


def inbound_events_record_new_customers(events: list[InboundEvent]) -> list[InboundEvent]:
    """Records the batch's independent new-customer events in bulk; returns the rest, in order."""
    fresh: list[_Fresh] = []
    for event, item, _keys in _independent(events):
        try:
            data = new_contact_data(identity_of(item), source=event.channel.name)
        except Exception:  # noqa: BLE001 - e.g. a handle too long for a card: the slow path says why
            continue
        fresh.append(_Fresh(event, item, data, item.occurred_at or timezone.now()))
    if not fresh:
        return events
    try:
        with transaction.atomic():
            _record(fresh)
    except Exception:
        log.exception("batch of %s new customers failed; recording them one by one", len(fresh))
        return events
    done = {f.event.pk for f in fresh}
    return [e for e in events if e.pk not in done]


def _record(fresh: list[_Fresh]) -> None:
    by_channel: dict[int, list[_Fresh]] = {}
    for f in fresh:
        by_channel.setdefault(f.event.channel_id, []).append(f)
    routes = {}
    for group in by_channel.values():
        channel: Channel = group[0].event.channel
        for f, route in zip(group, lead_assignees_for_new_customers(channel=channel, count=len(group)), strict=True):
            routes[f.event.pk] = route
            f.data.responsible = route[0]
    contacts = contacts_bulk_create(actor=None, items=[f.data for f in fresh])

    operators = _operators([f.item for f in fresh])
    conversations = []
    for f, contact in zip(fresh, contacts, strict=True):
        item = f.item
        conv = Conversation(
            channel=f.event.channel, contact=contact, kind=item.conversation_kind, external_id=item.thread_id,
            subject=item.subject[:500], started_at=f.at, last_message_at=f.at, utm=item.utm,
            page_url=item.page_url[:1000],
        )
        conversation_facts_set(conv, item, operators.get(item.operator_email.lower()))
        conversations.append(conv)
    conversations = Conversation.objects.bulk_create(conversations)
    for conv in conversations:
        if conv.finished_at is not None:  # an offline message: a chat that began finished
            chat_finished_publish(conv)
        conversation_changed_publish(conv)

    conversation_type = ContentType.objects.get_for_model(Conversation).pk
    activities, messages, leads = [], [], []
    for f, contact, conv in zip(fresh, contacts, conversations, strict=True):
        item, channel = f.item, f.event.channel
        activities.append({"contact_id": contact.pk, "kind": ACTIVITY_KIND[item.conversation_kind],
                           "summary": activity_summary(channel, item), "occurred_at": f.at,
                           "detail_type_id": conversation_type, "detail_id": conv.pk})
        if item.text or item.html:
            messages.append({"conversation_id": conv.pk, "direction": item.direction, "external_id": item.message_id,
                             "author_name": item.author_name[:200], "text": item.text, "html": item.html,
                             "sent_at": f.at, "meta": item.meta})
        assignee, how = routes[f.event.pk]
        leads.append({"contact_id": contact.pk, "channel_id": channel.pk, "conversation_id": conv.pk,
                      "title": lead_title(channel, item), "source": channel.name, "utm": item.utm,
                      "assignee_id": assignee.pk if assignee else None, "routed_by": how,
                      "department_id": (assignee.department_id if assignee else None) or channel.department_id})
    insert_rows(Activity, activities)
    insert_rows(Message, messages)
    insert_rows(Lead, leads)
    # lead.created for robots and outbound webhooks, in this transaction: one query reads the
    # batch's leads back (insert_rows returns no ids).
    leads_created_publish(leads=Lead.objects.filter(conversation_id__in=[c.pk for c in conversations])
                          .order_by("pk"))
    InboundEvent.objects.filter(pk__in=[f.event.pk for f in fresh]).update(
        status=InboundEvent.Status.DONE, processed_at=timezone.now(), locked_until=None, error="")
    for f in fresh:
        adapter = adapters.get(f.event.channel.kind)
        if f.item.text or f.item.html:
            adapter.recorded(f.event.channel, f.item)
