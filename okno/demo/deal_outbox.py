"""The SMS and e-mails the history's robots sent: outbox rows, sent, and their lines on the card's timeline.

A done run of "SMS the customer" or "e-mail the customer" queued a message rendered from its
template (okno.outbox.templating, the very renderer the robots use); the outbox's drain sent it
a few seconds later and wrote an Activity. Written here in bulk, backdated, with the same texts.
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.utils.translation import gettext as _
from django.utils.translation import override

from okno.core.bulk import insert_rows
from okno.outbox.models import DeliveryAttempt, OutboxMessage
from okno.outbox.sms import DELIVERED
from okno.outbox.templating import template_context, template_render
from okno.robots.models import Robot
from okno.timeline.models import Activity


def sent_messages_write(ctx, runs: list[tuple]) -> int:
    """Outbox rows (sent), delivery attempts and timeline activities for the done runs of the
    customer-messaging robots among `runs` [(plan, run row)]; returns how many."""
    robots = {r.pk: r for r in ctx.robots.values()}
    templates = {t.pk: t for t in ctx.process.templates.values()}
    stage_names = {s.pk: s.name for stages in ctx.stages.values() for s in stages}
    pipelines = {ctx.process.store.pk: ctx.process.store.name, ctx.process.b2b.pk: ctx.process.b2b.name}
    messages = []
    for plan, run in runs:
        robot = robots.get(run["robot_id"])
        if robot is None or run["status"] != "done" or run["purpose"] != "action" or robot.action not in (
                Robot.Action.SMS_CUSTOMER, Robot.Action.EMAIL_CUSTOMER):
            continue
        deal, customer = plan.deal, plan.customer
        context = template_context(deal={
            "title": deal.title, "amount": deal.amount, "currency": deal.currency,
            "stage": stage_names[robot.stage_id], "pipeline": pipelines[deal.pipeline_id],
            "responsible": ctx.users[plan.responsible_id].display_name, "pk": deal.pk,
            "external_id": deal.external_id, "custom": deal.custom,
        }, contact={"first_name": customer.first_name, "last_name": customer.last_name,
                    "middle_name": customer.middle_name, "phone": customer.phone, "email": customer.email},
            company={"name": customer.company_name} if customer.company_id else None)
        subject, body = template_render(template=templates[robot.action_params["template_id"]], context=context)
        sent = run["created_at"] + timedelta(seconds=4)
        if robot.action == Robot.Action.SMS_CUSTOMER:
            kind, payload, extra = OutboxMessage.Kind.SMS, {"to": customer.phone, "text": body}, {
                "delivery_status": DELIVERED, "delivery_checked_at": sent + timedelta(minutes=1),
                "provider_message_id": f"demo-{deal.pk}-{len(messages)}"}
        else:
            kind, payload, extra = OutboxMessage.Kind.EMAIL, {"to": customer.email, "subject": subject,
                                                              "body": body}, {}
        messages.append(OutboxMessage(
            kind=kind, key=f"demo-{run['entry'].replace('.', '-').replace(':', '-')}-{deal.pk}-{robot.pk}",
            payload=payload, status=OutboxMessage.Status.SENT, attempts=1, run_after=run["created_at"],
            created_at=run["created_at"], sent_at=sent, contact_id=customer.id, deal_id=deal.pk, **extra))
    OutboxMessage.objects.bulk_create(messages, batch_size=1000)
    insert_rows(DeliveryAttempt, [{"message_id": m.pk, "attempt": 1, "ok": True, "duration_ms": 30 + m.pk % 90,
                                   "at": m.sent_at} for m in messages])
    message_type = ContentType.objects.get_for_model(OutboxMessage)
    activities = []
    with override(settings.LANGUAGE_CODE):
        for m in messages:
            p = m.payload
            if m.kind == OutboxMessage.Kind.EMAIL:
                summary = _("E-mail to %(to)s: %(subject)s") % {"to": p["to"], "subject": p["subject"]}
            else:
                summary = _("SMS to %(to)s: %(text)s") % {"to": p["to"], "text": p["text"]}
            activities.append({"contact_id": m.contact_id, "kind": Activity.Kind.OUTBOX, "occurred_at": m.sent_at,
                               "summary": summary[:500], "detail_type_id": message_type.pk, "detail_id": m.pk,
                               "created_at": m.sent_at})
    insert_rows(Activity, activities)
    return len(messages)
