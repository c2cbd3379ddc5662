"""Reads of the outbox for pages and the API (administrators' pages: no per-card visibility here)."""

from django.db.models import QuerySet

from okno.outbox.models import DeliveryAttempt, OutboxMessage, WebhookEndpoint
from okno.timeline.models import Activity
from okno.timeline.registry import details_of

PROBLEM_STATUSES = (OutboxMessage.Status.GAVE_UP, OutboxMessage.Status.FAILED)


def endpoint_deliveries(*, endpoint: WebhookEndpoint) -> QuerySet[DeliveryAttempt]:
    """The endpoint's delivery log, newest first, with each attempt's message."""
    return DeliveryAttempt.objects.filter(endpoint=endpoint).select_related("message").order_by("-id")


def outbox_problems(*, status: str = "") -> QuerySet[OutboxMessage]:
    statuses = [status] if status in PROBLEM_STATUSES else list(PROBLEM_STATUSES)
    return OutboxMessage.objects.filter(status__in=statuses).select_related("endpoint").order_by("-id")


def messages_for_timeline(activities: list[Activity]) -> dict[int, OutboxMessage]:
    """The timeline's loader: activity id -> its message (one query a page)."""
    by_activity = details_of(activities, OutboxMessage)
    messages = OutboxMessage.objects.in_bulk(list(set(by_activity.values())))
    return {pk: messages[mid] for pk, mid in by_activity.items() if mid in messages}
