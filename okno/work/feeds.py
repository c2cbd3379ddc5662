"""What feeds the queue from other domains' events (registered in WorkConfig.ready).

`lead.created` for a lead from a conversation (a chat, a form, an e-mail, a messenger) that
nobody could be routed to (no one of the channel's department at work, no fallback) but with a
department: a `new_lead` item in that department's queue, due now, so Next serves it to the
first manager free. A routed lead already has its person (and the lead reminders); a call's
lead (no conversation) is someone's already: a missed call becomes a callback item, an answered
one was taken by whoever answered."""

from okno.core.events import Event


def new_lead_item_for_unassigned_lead(event: Event) -> None:
    from okno.work.models import WorkItem

    lead = event.subject
    if lead.assignee_id or not lead.department_id or not lead.conversation_id:
        return
    # A batch path may publish again: one item per lead.
    if WorkItem.objects.filter(lead_id=lead.pk, kind=WorkItem.Kind.NEW_LEAD).exists():
        return
    from okno.work.queue_live import workitem_announce

    workitem_announce(WorkItem.objects.create(kind=WorkItem.Kind.NEW_LEAD, lead=lead, contact_id=lead.contact_id,
                                              department_id=lead.department_id, title=(lead.title or "")[:300],
                                              due_at=event.at))


def register() -> None:
    from okno.core import events

    events.subscribe("lead.created", new_lead_item_for_unassigned_lead, key="work.new_lead")
