"""A robot's outbound webhook: a delivery row for the outbox, which signs and sends it.

A robot names a WebhookEndpoint (its secret, its private-network permission) or a URL; a URL
is given its own endpoint when the robot is saved (`robot_webhook_endpoint`), subscribed to no
domain event, so that robot deliveries are signed, retried and listed like every other.
"""


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
    from okno.outbox.services import outbox_webhook

    endpoint = WebhookEndpoint.objects.filter(pk=robot.action_params.get("endpoint_id") or 0).first()
    if endpoint is None:
        from okno.robots.actions import RunRefused

        raise RunRefused("the webhook endpoint is gone")
    # The outbox's public writer: one row per key (a second call returns the first row).
    return outbox_webhook(endpoint=endpoint, event=EVENT, data=data, key=key, contact_id=contact_id,
                          deal_id=deal_id)
