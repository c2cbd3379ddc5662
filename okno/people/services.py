"""Administering people: departments and users; API tokens; unlocking throttled logins."""

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Sum
from django.utils import timezone
from django.utils.translation import gettext_noop

from okno.core.access import require_admin
from okno.core.errors import FieldError
from okno.people.models import ApiToken, Department, User


def _department_fields(*, name: str, parent_id: int | None, moving: Department | None = None) -> Department | None:
    """Checks a department's name and parent; returns the parent. A move under its own subtree is a loop."""
    errors = {}
    if not name.strip():
        errors["name"] = "a department needs a name"
    parent = None
    if parent_id is not None:
        parent = Department.objects.filter(pk=parent_id).first()
        if parent is None:
            errors["parent_id"] = "no such department"
        elif moving is not None and parent.pk in moving.subtree_ids():
            errors["parent_id"] = "a department cannot be its own parent"
    if errors:
        raise FieldError(errors)
    return parent


def _role_and_department(role: str, department_id: int | None, errors: dict[str, str]) -> Department | None:
    """Checks a person's role and department, noting problems in `errors`; returns the department."""
    if role not in User.Role.values:
        errors["role"] = f"must be one of: {', '.join(User.Role.values)}"
    if department_id is None:
        return None
    department = Department.objects.filter(pk=department_id).first()
    if department is None:
        errors["department_id"] = "no such department"
    return department


def _calendar(calendar_id: int | None):
    """The department's business calendar (its callbacks and deadlines count on it), or None."""
    from okno.core.models import Calendar

    if calendar_id is None:
        return None
    calendar = Calendar.objects.filter(pk=calendar_id).first()
    if calendar is None:
        raise FieldError({"calendar_id": "no such calendar"})
    return calendar


def department_create(*, actor: User, name: str, parent_id: int | None = None,
                      calendar_id: int | None = None) -> Department:
    require_admin(actor, "Only an administrator manages people")
    parent = _department_fields(name=name, parent_id=parent_id)
    return Department.objects.create(name=name.strip(), parent=parent, calendar=_calendar(calendar_id))


@transaction.atomic
def user_create(
    *, actor: User, username: str, password: str, first_name: str = "", last_name: str = "",
    department_id: int | None = None, role: str = User.Role.MANAGER, email: str = "",
) -> User:
    require_admin(actor, "Only an administrator manages people")
    errors = {}
    if not username.strip():
        errors["username"] = "required"
    elif User.objects.filter(username=username.strip()).exists():
        errors["username"] = "this username is taken"
    department = _role_and_department(role, department_id, errors)
    try:
        validate_password(password)
    except ValidationError as exc:
        errors["password"] = " ".join(exc.messages)
    if errors:
        raise FieldError(errors)
    user = User(
        username=username.strip(), first_name=first_name, last_name=last_name, email=email,
        department=department, role=role, is_staff=role == User.Role.ADMIN,
    )
    user.set_password(password)
    user.save()
    return user


@transaction.atomic
def department_update(*, actor: User, department: Department, name: str, parent_id: int | None = None,
                      calendar_id: int | None | bool = False) -> Department:
    """Renames or moves a department; a move under its own subtree would make a loop, so it is refused.

    `calendar_id` False keeps the department's calendar; None clears it (the parent's applies)."""
    require_admin(actor, "Only an administrator manages people")
    parent = _department_fields(name=name, parent_id=parent_id, moving=department)
    department.name, department.parent = name.strip(), parent
    if calendar_id is not False:
        department.calendar = _calendar(calendar_id)
    department.save()
    return department


@transaction.atomic
def user_update(
    *, actor: User, user: User, role: str, department_id: int | None, is_active: bool,
    first_name: str | None = None, last_name: str | None = None, email: str | None = None,
) -> User:
    """Changes a person's role, department or access. An administrator cannot lock themself out."""
    require_admin(actor, "Only an administrator manages people")
    errors = {}
    department = _role_and_department(role, department_id, errors)
    if user.pk == actor.pk and (not is_active or role != User.Role.ADMIN) and not actor.is_superuser:
        errors["role" if is_active else "is_active"] = "you cannot take away your own administrator access"
    if errors:
        raise FieldError(errors)
    user.role, user.department, user.is_active = role, department, is_active
    user.is_staff = role == User.Role.ADMIN
    for name, value in (("first_name", first_name), ("last_name", last_name), ("email", email)):
        if value is not None:
            setattr(user, name, value.strip())
    user.save()
    return user


def user_set_language(*, user: User, language: str) -> None:
    """Remembers the UI language a person chose; the middleware applies it on every request."""
    if language not in dict(settings.LANGUAGES):
        raise FieldError({"language": "unknown language"})
    User.objects.filter(pk=user.pk).update(language=language)
    user.language = language


def user_set_at_work(*, user: User, at_work: bool) -> None:
    """Presence for lead routing: a manager who steps away is skipped by round-robin until back."""
    User.objects.filter(pk=user.pk).update(at_work=at_work)
    user.at_work = at_work


# --- API tokens -------------------------------------------------------------------------------

TOKEN_NAME_MAX = 100
# Reasons given below, offered for translation (okno.core.reasons.reason_text shows them).
REASONS = [
    gettext_noop("a token needs a name (what uses it)"),
    gettext_noop("at most 100 characters"),
    gettext_noop("must be in the future"),
    gettext_noop("this user is deactivated"),
    gettext_noop("name an account or an address"),
]


def token_issue(*, actor: User, user: User | None = None, name: str, expires_at: datetime | None = None
                ) -> tuple[ApiToken, str]:
    """A new token for `user` (default: the actor); an administrator may issue for anyone.

    Returns the row and the key: the key is shown once, only its hash is stored."""
    user = user or actor
    if user.pk != actor.pk:
        require_admin(actor, "Only an administrator issues tokens for another user")
    errors = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = "a token needs a name (what uses it)"
    elif len(name) > TOKEN_NAME_MAX:
        errors["name"] = "at most 100 characters"
    if expires_at is not None:
        if timezone.is_naive(expires_at):
            expires_at = timezone.make_aware(expires_at)
        if expires_at <= timezone.now():
            errors["expires_at"] = "must be in the future"
    if not user.is_active:
        errors["user_id"] = "this user is deactivated"
    if errors:
        raise FieldError(errors)
    return ApiToken.create_with_key(user, name=name, expires_at=expires_at)


def tokens_visible_to(actor: User):
    """Whose tokens a person may list and revoke: their own; an administrator anyone's."""
    qs = ApiToken.objects.select_related("user", "revoked_by")
    return qs if actor.is_admin else qs.filter(user=actor)


def token_revoke(*, actor: User, token: ApiToken) -> ApiToken:
    """Revokes a token (its row stays, for the record). Revoking a revoked token changes nothing."""
    if token.user_id != actor.pk:
        require_admin(actor, "Only an administrator revokes another user's tokens")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.revoked_reason = ApiToken.Revoked.OWNER if token.user_id == actor.pk else ApiToken.Revoked.ADMIN
        token.revoked_by = actor
        token.save(update_fields=["revoked_at", "revoked_reason", "revoked_by"])
    return token


# --- Throttled logins (django-axes) -----------------------------------------------------------

def _cool_off() -> timedelta | None:
    from axes.helpers import get_cool_off

    return get_cool_off()


def login_lockouts() -> dict[str, list[dict]]:
    """Accounts and addresses with failed logins still counted, as the login throttle counts them.

    Each: {"key", "failures", "last_at", "locked", "until"}; `until` is None when there is no
    cool-off (only an administrator unlocks)."""
    from axes.models import AccessAttempt

    cool_off = _cool_off()
    attempts = AccessAttempt.objects.all()
    if cool_off:
        attempts = attempts.filter(attempt_time__gte=timezone.now() - cool_off)
    limit = settings.AXES_FAILURE_LIMIT
    out = {}
    for field in ("username", "ip_address"):
        # Only isnull: `ip_address=""` becomes `= NULL` on a GenericIPAddressField and drops every row.
        rows = (attempts.filter(**{f"{field}__isnull": False}).values(field)
                .annotate(failures=Sum("failures_since_start"), last_at=Max("attempt_time"))
                .order_by("-last_at"))
        out[field] = [{
            "key": row[field], "failures": row["failures"], "last_at": row["last_at"],
            "locked": row["failures"] >= limit and field in _lockout_fields(),
            "until": row["last_at"] + cool_off if cool_off else None,
        } for row in rows if row[field]]
    return out


def _lockout_fields() -> set[str]:
    fields = set()
    for p in settings.AXES_LOCKOUT_PARAMETERS:
        fields.update([p] if isinstance(p, str) else p)
    return fields


def login_unlock(*, actor: User, username: str = "", ip_address: str = "") -> int:
    """An administrator forgets the failed logins of an account or an address (both, if given)."""
    from axes.utils import reset

    require_admin(actor, "Only an administrator unlocks logins")
    if not username and not ip_address:
        raise FieldError({"username": "name an account or an address"})
    count = 0
    if username:
        count += reset(username=username)
    if ip_address:
        count += reset(ip=ip_address)
    return count
