from django.apps import AppConfig


class OutboxConfig(AppConfig):
    """What Okno sends out on its own: e-mails and SMS from templates, outbound webhooks.

    Its own app (not part of robots) so that robots, deals and later stores all write to one
    outbox in the transaction of the change that caused the send, and nothing imports robots."""

    name = "okno.outbox"
    label = "outbox"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from okno.contacts import merge_registry
        from okno.core import events, worker
        from okno.outbox.deal_preview import deal_preview_context
        from okno.outbox.drain import outbox_drain
        from okno.outbox.models import OutboxMessage, WebhookEndpoint
        from okno.outbox.reply_routes import reply_routes_register
        from okno.outbox.selectors import messages_for_timeline
        from okno.outbox.services import endpoints_forget, outbox_webhooks_for_event
        from okno.outbox.sms_status import sms_status_drain
        from okno.outbox.templating import register_deal_context
        from okno.timeline import registry as timeline
        from okno.timeline.models import Activity

        merge_registry.register(OutboxMessage, "contact")
        register_deal_context(deal_preview_context)
        reply_routes_register()  # the card's reply box answers a form or a Jivo chat by e-mail or SMS
        timeline.register(kinds=[Activity.Kind.OUTBOX], template="outbox/_timeline_outbox.html",
                          load=messages_for_timeline)
        # Every event, filtered by each endpoint's list: one subscriber, so no event is queued twice.
        events.subscribe("*", outbox_webhooks_for_event, key="outbox.webhooks")
        # The subscriber keeps the active endpoints a moment; a change made here is seen at once.
        for signal in (post_save, post_delete):
            signal.connect(endpoints_forget, sender=WebhookEndpoint, dispatch_uid=f"outbox-endpoints-{signal}")
        # Robots' sends and webhooks: half a second of idle pick-up is well inside "the first retry
        # within a minute", and an idle look is one indexed query.
        worker.register_drain("outbox", outbox_drain, idle_sleep=0.5)
        worker.register_drain("sms_status", sms_status_drain, idle_sleep=30)
