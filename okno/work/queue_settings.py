"""A department's queue rules (DepartmentWorkSettings): read by its people, changed by its head
or an administrator. docs/work.md, "Department work settings"."""

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from okno.core.errors import ApiError, FieldError
from okno.people.models import Department, User
from okno.work.models import DEFAULT_PRIORITIES, DepartmentWorkSettings

SETTING_LIMITS = {  # field: (least, most)
    "daily_capacity": (0, 1000),
    "max_break_minutes": (0, 24 * 60),
    "dormant_after_days": (1, 3650),
    "retry_minutes": (1, 7 * 24 * 60),
    "wrap_up_seconds": (0, 60 * 60),
}
SWITCHES = ("next_only",)  # true/false settings
# The fixed reasons below, offered for translation (pages show them through reason_text; the
# patterned ones, "must be a whole number from 1 to 100" and "unknown kind; one of ...", are in
# okno.core.reasons.PATTERNED_REASONS).
REASONS = [gettext_noop("unknown field"), gettext_noop("must be an object {kind: rank}")]


def work_settings_for(department: Department | None) -> DepartmentWorkSettings:
    """The department's row, or the defaults (unsaved) when it has none."""
    if department is None:
        return DepartmentWorkSettings()
    found = DepartmentWorkSettings.objects.filter(department=department).first()
    return found or DepartmentWorkSettings(department=department)


def work_settings_for_id(department_id: int | None) -> DepartmentWorkSettings:
    """As work_settings_for, by the department's id (one query, no Department read)."""
    if department_id is None:
        return DepartmentWorkSettings()
    found = DepartmentWorkSettings.objects.filter(department_id=department_id).first()
    return found or DepartmentWorkSettings(department_id=department_id)


def access_department_settings(*, actor: User, department: Department, write: bool) -> None:
    """Administrators and heads of the department (or above it) may change its rules; its own
    people may read them."""
    if actor.is_admin:
        return
    if actor.role == User.Role.HEAD and actor.department_id and department.pk in Department.objects.get(
            pk=actor.department_id).subtree_ids():
        return
    if not write and actor.department_id == department.pk:
        return
    raise ApiError(_("Only an administrator or the department's head may do this"), status=403)


def work_settings_update(*, actor: User, department: Department, data: dict) -> DepartmentWorkSettings:
    """Validates every field (each refusal names it) and saves; fields left out keep their value."""
    access_department_settings(actor=actor, department=department, write=True)
    if not isinstance(data, dict):
        raise FieldError({"body": "must be a JSON object"})
    errors: dict[str, str] = {}
    row = work_settings_for(department)
    for key in data:
        if key not in SETTING_LIMITS and key not in SWITCHES and key != "priorities":
            errors[key] = "unknown field"
    if "priorities" in data:
        raw = data["priorities"]
        if not isinstance(raw, dict):
            errors["priorities"] = "must be an object {kind: rank}"
        else:
            clean = {}
            for kind, rank in raw.items():
                if kind not in DEFAULT_PRIORITIES:
                    errors[f"priorities.{kind}"] = "unknown kind; one of " + ", ".join(DEFAULT_PRIORITIES)
                elif isinstance(rank, bool) or not isinstance(rank, int) or not 1 <= rank <= 100:
                    errors[f"priorities.{kind}"] = "must be a whole number from 1 to 100"
                else:
                    clean[kind] = rank
            row.priorities = clean
    for key, (least, most) in SETTING_LIMITS.items():
        if key in data:
            value = data[key]
            if isinstance(value, bool) or not isinstance(value, int) or not least <= value <= most:
                errors[key] = f"must be a whole number from {least} to {most}"
            else:
                setattr(row, key, value)
    for key in SWITCHES:
        if key in data:
            if isinstance(data[key], bool):
                setattr(row, key, data[key])
            else:
                errors[key] = "must be true or false"
    if errors:
        raise FieldError(errors)
    return department_row_save(row, department)


def department_row_save(row, department: Department):
    """Saves a department's one-row settings (work rules, the dialer). Two heads saving the first
    row at once: the second updates the first's row instead of failing on the unique department."""
    with transaction.atomic():
        if row.pk is None:
            existing = type(row).objects.select_for_update().filter(department=department).first()
            if existing is not None:
                row.pk = existing.pk
        row.save()
    return row




def picks_only_by_next(user: User) -> bool:
    """True when the user is a manager of a department whose settings have `next_only` on: they do
    not see nor take the department's queue on "My work" (Next serves them). Heads and
    administrators never; one indexed read, and none for them."""
    if not user.is_authenticated or user.is_admin or user.role != User.Role.MANAGER or not user.department_id:
        return False
    return DepartmentWorkSettings.objects.filter(department_id=user.department_id, next_only=True).exists()
