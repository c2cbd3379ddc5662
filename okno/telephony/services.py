"""Telephony set-up done by people: who is behind an extension."""

from django.db import IntegrityError, transaction
from django.db.models import Count, Max, QuerySet
from django.utils import timezone

from okno.core.access import require_admin
from okno.core.errors import ApiError, FieldError
from okno.inbox import adapters
from okno.inbox.models import Channel
from okno.people.models import User
from okno.telephony.adapters.base import PbxAdapter
from okno.telephony.models import Call, CallLeg, PbxExtension

MAX_CODE = 64  # PbxExtension.code


def unmatched_extensions() -> QuerySet:
    """Extensions calls came through that no PbxExtension names, busiest first."""
    return (Call.objects.exclude(unmatched_extension="").values("channel_id", "channel__name", "unmatched_extension")
            .annotate(calls=Count("pk"), last_at=Max("started_at")).order_by("-calls", "unmatched_extension"))


@transaction.atomic
def extension_assign(*, channel: Channel, code: str, user: User) -> int:
    """Names the employee behind an extension, here and on the calls already kept; returns how many."""
    PbxExtension.objects.update_or_create(channel=channel, code=code, defaults={"user": user})
    CallLeg.objects.filter(call__channel=channel, extension=code, employee__isnull=True).update(employee=user)
    # updated_at by hand (update() skips auto_now): the reports' rollup re-counts the days of
    # calls changed since it last looked (okno.analytics.rollup.rollup_check_changed).
    return Call.objects.filter(channel=channel, unmatched_extension=code).update(
        employee=user, department_id=user.department_id or channel.department_id, unmatched_extension="",
        updated_at=timezone.now())


def require_pbx_channel(channel: Channel) -> None:
    """Refuses (400 naming `channel`) a channel that is no PBX: only a PBX has extensions."""
    if not isinstance(adapters.get(channel.kind), PbxAdapter):
        raise FieldError({"channel": f"a {channel.kind} channel is not a telephony channel: it has no extensions"})


def extension_add(*, actor: User, channel: Channel, code: str, user_id: int) -> tuple[PbxExtension, int]:
    """An administrator names the employee behind a new extension of a PBX channel; the calls
    already kept through it get the employee too (extension_assign, as the Unmatched extensions
    page does). Returns the extension and how many calls it updated. A code the channel already
    has is a 409 naming `code`: moving an extension to someone else is a DELETE, then a POST."""
    require_admin(actor, "Only an administrator manages extensions")
    require_pbx_channel(channel)
    code = (code or "").strip()
    if not code or len(code) > MAX_CODE or not code.isprintable():
        raise FieldError({"code": f"1 to {MAX_CODE} printable characters"})
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        raise FieldError({"user_id": "no such active user"})
    if PbxExtension.objects.filter(channel=channel, code=code).exists():
        raise ApiError("Conflict", status=409, errors=[{"field": "code", "reason": "the channel already has it"}])
    try:
        with transaction.atomic():
            PbxExtension.objects.create(channel=channel, code=code, user=user)
            updated = extension_assign(channel=channel, code=code, user=user)
    except IntegrityError:  # the same code added a moment ago by another request
        raise ApiError("Conflict", status=409,
                       errors=[{"field": "code", "reason": "the channel already has it"}]) from None
    return PbxExtension.objects.get(channel=channel, code=code), updated


def extension_remove(*, actor: User, channel: Channel, code: str) -> bool:
    """Forgets who is behind an extension; calls already kept keep their employee. False when the
    channel had no such extension."""
    require_admin(actor, "Only an administrator manages extensions")
    require_pbx_channel(channel)
    deleted, _ = PbxExtension.objects.filter(channel=channel, code=code).delete()
    return bool(deleted)
