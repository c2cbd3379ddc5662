"""Administering people: departments and users."""

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from okno.core.errors import FieldError
from okno.people.models import Department, User


def _require_admin(actor: User) -> None:
    if not actor.is_admin:
        raise PermissionDenied("Only an administrator manages people")


def department_create(*, actor: User, name: str, parent_id: int | None = None) -> Department:
    _require_admin(actor)
    errors = {}
    if not name.strip():
        errors["name"] = "a department needs a name"
    parent = None
    if parent_id is not None:
        parent = Department.objects.filter(pk=parent_id).first()
        if parent is None:
            errors["parent_id"] = "no such department"
    if errors:
        raise FieldError(errors)
    return Department.objects.create(name=name.strip(), parent=parent)


@transaction.atomic
def user_create(
    *, actor: User, username: str, password: str, first_name: str = "", last_name: str = "",
    department_id: int | None = None, role: str = User.Role.MANAGER, email: str = "",
) -> User:
    _require_admin(actor)
    errors = {}
    if not username.strip():
        errors["username"] = "required"
    elif User.objects.filter(username=username.strip()).exists():
        errors["username"] = "this username is taken"
    if role not in User.Role.values:
        errors["role"] = f"must be one of: {', '.join(User.Role.values)}"
    department = None
    if department_id is not None:
        department = Department.objects.filter(pk=department_id).first()
        if department is None:
            errors["department_id"] = "no such department"
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
