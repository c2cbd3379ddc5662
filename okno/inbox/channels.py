"""Creating and editing channels, rotating their secrets (administrators)."""

import secrets

from django.conf import settings
from django.db import transaction

from okno.core.access import require_admin
from okno.core.business_hours import business_hours_settings_errors
from okno.core.errors import FieldError
from okno.inbox import adapters
from okno.inbox.models import Channel
from okno.people.models import Department, User


def channel_create(*, actor: User, kind: str, name: str, settings_: dict | None = None,
                   department_id: int | None = None, fallback_user_id: int | None = None) -> Channel:
    require_admin(actor, "Only an administrator manages channels")
    errors = _channel_errors(kind=kind, name=name, settings_=settings_, department_id=department_id,
                             fallback_user_id=fallback_user_id)
    if errors:
        raise FieldError(errors)
    return Channel.objects.create(kind=kind, name=name.strip(), settings=settings_ or {},
                                  department_id=department_id, fallback_user_id=fallback_user_id)


def channel_update(*, actor: User, channel: Channel, name: str, settings_: dict,
                   department_id: int | None = None, fallback_user_id: int | None = None) -> Channel:
    """New name, routing and settings for an existing channel, checked as on creation; its kind,
    URL and secret stay. The worker's poll state (an e-mail channel's last UID...) is kept as it
    is now, not as the form saw it, so a poll finishing meanwhile is not undone."""
    require_admin(actor, "Only an administrator manages channels")
    errors = _channel_errors(kind=channel.kind, name=name, settings_=settings_, department_id=department_id,
                             fallback_user_id=fallback_user_id)
    if errors:
        raise FieldError(errors)
    from okno.inbox.channel_forms import STATE_KEYS

    with transaction.atomic():
        current = Channel.objects.select_for_update().get(pk=channel.pk)
        state = {k: v for k, v in current.settings.items() if k in STATE_KEYS}
        current.name, current.department_id, current.fallback_user_id = name.strip(), department_id, fallback_user_id
        current.settings = {**{k: v for k, v in settings_.items() if k not in STATE_KEYS}, **state}
        current.save(update_fields=["name", "department", "fallback_user", "settings"])
    return current


def _channel_errors(*, kind: str, name: str, settings_, department_id, fallback_user_id) -> dict[str, str]:
    errors: dict[str, str] = {}
    adapter = adapters.get(kind)
    if adapter is None:
        errors["kind"] = f"must be one of: {', '.join(adapters.kinds())}"
    if not name.strip():
        errors["name"] = "a channel needs a name"
    if settings_ is not None and not isinstance(settings_, dict):
        errors["settings"] = "must be an object"
    elif adapter is not None:
        for key in adapter.required_settings:
            if not (settings_ or {}).get(key):
                errors[f"settings.{key}"] = "required for this kind of channel"
    if isinstance(settings_, dict):
        errors.update(_deadline_settings_errors(settings_))
    if department_id is not None and not Department.objects.filter(pk=department_id).exists():
        errors["department_id"] = "no such department"
    if fallback_user_id is not None and not User.objects.filter(pk=fallback_user_id, is_active=True).exists():
        errors["fallback_user_id"] = "no such user"
    return errors


def _deadline_settings_errors(settings_: dict) -> dict[str, str]:
    """The line's callback deadline and business hours, checked before they are kept."""
    errors: dict[str, str] = {}
    minutes = settings_.get("callback_minutes")
    if minutes not in (None, ""):
        try:
            if float(minutes) < 0:
                raise ValueError
        except (TypeError, ValueError):
            errors["settings.callback_minutes"] = "must be a number of minutes, 0 or more"
    errors.update(business_hours_settings_errors(settings_))
    return errors


def channel_rotate_secret(*, actor: User, channel: Channel) -> Channel:
    """New URL token and secret: the old URL stops working at once (a leaked URL is cut off)."""
    require_admin(actor, "Only an administrator manages channels")
    channel.token, channel.secret = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    channel.save(update_fields=["token", "secret"])
    return channel


def channel_webhook_url(channel: Channel) -> str:
    return settings.SITE_URL.rstrip("/") + channel.webhook_path
