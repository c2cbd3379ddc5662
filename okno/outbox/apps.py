from django.apps import AppConfig


class OutboxConfig(AppConfig):
    """What Okno sends out on its own: e-mails and SMS from templates, outbound webhooks.

    Its own app (not part of robots) so that robots, deals and later stores all write to one
    outbox in the transaction of the change that caused the send, and nothing imports robots."""

    name = "okno.outbox"
    label = "outbox"
