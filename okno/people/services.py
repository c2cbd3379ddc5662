"""Administering people: departments and users."""

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from okno.core.access import require_admin
from okno.core.errors import FieldError
from okno.people.models import Department, User


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
