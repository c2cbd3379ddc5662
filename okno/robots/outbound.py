"""A robot's outbound webhook: a delivery row for the outbox, which signs and sends it.

A robot names a WebhookEndpoint (its secret, its private-network permission) or a URL; a URL
is given its own endpoint when the robot is saved (`robot_webhook_endpoint`), subscribed to no
domain event, so that robot deliveries are signed, retried and listed like every other.
"""

from django.utils import timezone

from okno.core.events import Event
from okno.outbox.models import OutboxMessage, WebhookEndpoint
from okno.robots.models import Robot

EVENT = "robot.webhook"


def robot_webhook_endpoint(*, url: str, allow_private_network: bool, actor, description: str) -> WebhookEndpoint:
    """The endpoint a robot's URL is sent to (the URL was checked by okno.robots.rules)."""
    existing = WebhookEndpoint.objects.filter(url=url, events=[], allow_private_network=allow_private_network).first()
    if existing is not None:
        return existing
    return WebhookEndpoint.objects.create(url=url, events=[], allow_private_network=allow_private_network,
                                          created_by=actor if getattr(actor, "pk", None) else None,
                                          description=description[:300])


def robot_webhook_queue(*, robot: Robot, key: str, data: dict, deal_id: int | None, contact_id: int | None
                        ) -> OutboxMessage:
    """Queues one delivery of `robot.webhook` to the robot's endpoint, once per key."""
    from okno.outbox.services import _queue, webhook_body

    endpoint = WebhookEndpoint.objects.filter(pk=robot.action_params.get("endpoint_id") or 0).first()
    if endpoint is None:
        from okno.robots.actions import RunRefused

        raise RunRefused("the webhook endpoint is gone")
    body = webhook_body(Event(name=EVENT, subject=None, data=data, at=timezone.now()))
    # _queue is the outbox's one writer of a row for a key (a second call returns the first row).
    return _queue(kind=OutboxMessage.Kind.WEBHOOK, key=key, payload={"event": EVENT, "body": body},
                  contact_id=contact_id, deal_id=deal_id, endpoint=endpoint)
