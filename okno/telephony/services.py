"""Telephony set-up done by people: who is behind an extension."""

from django.db import transaction
from django.db.models import Count, Max, QuerySet

from okno.inbox.models import Channel
from okno.people.models import User
from okno.telephony.models import Call, CallLeg, PbxExtension


def unmatched_extensions() -> QuerySet:
    """Extensions calls came through that no PbxExtension names, busiest first."""
    return (Call.objects.exclude(unmatched_extension="").values("channel_id", "channel__name", "unmatched_extension")
            .annotate(calls=Count("pk"), last_at=Max("started_at")).order_by("-calls", "unmatched_extension"))


@transaction.atomic
def extension_assign(*, channel: Channel, code: str, user: User) -> int:
    """Names the employee behind an extension, here and on the calls already kept; returns how many."""
    PbxExtension.objects.update_or_create(channel=channel, code=code, defaults={"user": user})
    CallLeg.objects.filter(call__channel=channel, extension=code, employee__isnull=True).update(employee=user)
    return Call.objects.filter(channel=channel, unmatched_extension=code).update(
        employee=user, department_id=user.department_id or channel.department_id, unmatched_extension="")
