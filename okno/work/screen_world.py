"""What the manager screen shows around an item: the customer's whole world, read as the card reads it.

Everything here is read through the owning domain's selectors (the card's duplicate check and
timeline, deals' visibility, invoices', the inbox's conversation for the reply box), so the
screen shows exactly what the card would, and nothing the manager may not see.
"""

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, Q
from django.utils import timezone

from okno.contacts.forms import messenger_label, reason_text
from okno.contacts.matching import Probe, find_candidates
from okno.contacts.models import Contact
from okno.contacts.selectors import candidates_disclosed, contacts_visible
from okno.contacts.views import served_by_text
from okno.deals.models import LostReason
from okno.deals.selectors import deals_visible
from okno.inbox.models import Conversation
from okno.inbox.selectors import conversation_for_card, conversations_visible
from okno.invoices.selectors import invoices_for_contact
from okno.people.models import User
from okno.telephony.models import Call
from okno.timeline.selectors import timeline_for_card
from okno.work.models import WorkItem
from okno.work.screen import screen_call_request

# The screen is for the next few minutes: the newest entries of the timeline are what matters.
TIMELINE_LIMIT = 50
DEALS_LIMIT = 20


def screen_duplicates(*, user: User, contact: Contact) -> tuple[list[dict], list]:
    """The card's duplicates warning: possible other cards the user may see (with reasons in the
    user's language) and who serves the ones they may not."""
    shown, served = candidates_disclosed(user=user, candidates=find_candidates(Probe.of(contact),
                                                                               exclude_ids={contact.pk}))
    cards = contacts_visible(user=user).in_bulk([c.contact_id for c in shown])
    described = [{"contact": cards[c.contact_id], "reasons": [reason_text(r) for r in c.reasons]}
                 for c in shown if c.contact_id in cards]
    return described, served


def _conversation_id(item: WorkItem, contact: Contact | None) -> int | None:
    """The conversation the item came from: its lead's, its deal's; else the customer's latest."""
    for source in (item.lead, item.deal):
        if source is not None and source.conversation_id:
            return source.conversation_id
    if contact is None:
        return None
    return (Conversation.objects.filter(contact=contact).order_by("-last_message_at", "-id")
            .values_list("pk", flat=True).first())


def screen_call(*, user: User, item: WorkItem) -> dict:
    """The item's call as it is now: the click-to-call request (pending, sent, failed and why)
    and the call the PBX reported for it (ringing, answered, missed...)."""
    request = screen_call_request(user=user, item=item)
    call = None
    if request is not None:
        # The PBX's call leg for this request: the employee's outbound call made after it.
        calls = Call.objects.filter(employee=user, direction=Call.Direction.OUT, created_at__gte=request.created_at)
        calls = calls.filter(contact_id=item.contact_id) if item.contact_id else calls.filter(
            customer_number=request.number)
        call = calls.order_by("-id").first()
    return {"call_request": request, "call": call}


def screen_world(*, user: User, item: WorkItem) -> dict:
    """The template context of the item's panel (a fixed number of queries, whatever the customer's size)."""
    contact = None
    if item.contact_id:
        contact = (contacts_visible(user=user).select_related("company", "responsible", "department")
                   .filter(pk=item.contact_id).first())
    world: dict = {"item": item, "contact": contact, "now": timezone.now(), "today": timezone.localdate(),
                   **screen_call(user=user, item=item)}
    world["lost_reasons"] = list(LostReason.objects.filter(is_active=True))
    if contact is None:
        world.update(deals=[], invoices=[], activities=[], conversation=None, duplicates=[], served_by_texts=[])
        return world
    handles = list(contact.handles.all())
    for h in handles:
        h.label = messenger_label(h.kind)
    deals = list(deals_visible(user=user).filter(contact=contact).select_related("pipeline", "stage", "lost_reason")
                 .prefetch_related("lines").order_by("closed_at", "-created_at")[:DEALS_LIMIT])
    duplicates, served = screen_duplicates(user=user, contact=contact)
    conversation_id = _conversation_id(item, contact)
    conversation = None
    if conversation_id and conversations_visible(user=user).filter(pk=conversation_id).exists():
        conversation = conversation_for_card(user=user, pk=conversation_id)
    activities = timeline_for_card(contact=contact, limit=TIMELINE_LIMIT)
    if conversation is not None:
        # Drawn above with its reply box; twice on one page would give two forms one id.
        conv_type = ContentType.objects.get_for_model(Conversation).pk
        activities = [a for a in activities if not (a.detail_type_id == conv_type and a.detail_id == conversation.pk)]
    world.update(
        phones=list(contact.phones.all()), emails=list(contact.emails.all()), handles=handles, deals=deals,
        open_deals=[d for d in deals if d.closed_at is None],
        # The deal a document goes out for: the item's own, else the customer's newest open one.
        document_deal=next((d for d in deals if d.pk == item.deal_id), None)
        or next((d for d in deals if d.closed_at is None), None),
        invoices=invoices_for_contact(user=user, contact_id=contact.pk),
        duplicates=duplicates, served_by_texts=[served_by_text(i) for i in served],
        conversation=conversation, activities=activities)
    return world


def screen_counters(*, user: User) -> dict:
    """The bar's counters: items due now for the caller (their department's queue and their own)
    by kind, how many wait for later, and how many the caller closed today. Two indexed queries."""
    now = timezone.now()
    start = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    mine = Q(assignee_id=user.pk)
    if user.department_id:
        mine |= Q(assignee__isnull=True, department_id=user.department_id)
    rows = (WorkItem.objects.filter(mine, status=WorkItem.Status.OPEN).values("kind")
            .annotate(due=Count("id", filter=Q(due_at__lte=now)), later=Count("id", filter=Q(due_at__gt=now))))
    labels = dict(WorkItem.Kind.choices)
    by_kind = [{"kind": r["kind"], "label": labels.get(r["kind"], r["kind"]), "due": r["due"]}
               for r in sorted(rows, key=lambda r: r["kind"]) if r["due"]]
    done_today = WorkItem.objects.filter(assignee=user, status=WorkItem.Status.DONE, closed_at__gte=start).count()
    return {"by_kind": by_kind, "due": sum(r["due"] for r in rows), "later": sum(r["later"] for r in rows),
            "done_today": done_today}

