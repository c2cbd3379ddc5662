"""The report settings: the success threshold (company-wide, and per department) and the
callback window. Reports read them when asked, so a change re-counts history at once."""

from django.db import transaction
from django.utils.translation import gettext_noop

from okno.analytics.models import AnalyticsSettings, DepartmentThreshold
from okno.core.access import require_admin
from okno.core.errors import FieldError
from okno.people.models import Department

# The reasons the settings page can show, listed so that it shows them translated (reason_text).
REASONS = [gettext_noop("must be a whole number"), gettext_noop("must be 0 or more")]

# A week: a missed call returned later than that is not a callback in any report anyone asked for.
MAX_CALLBACK_WINDOW_MINUTES = 7 * 24 * 60
# A day of talk: past it a threshold is a typo, and no call would ever count.
MAX_THRESHOLD_SECONDS = 86_400
# An hour: a visitor who waited longer than that and left was not "gone at once".
MAX_UNANSWERED_MIN_STAY_SECONDS = 3600


def analytics_settings_get() -> AnalyticsSettings:
    conf = AnalyticsSettings.objects.filter(pk=1).first()
    return conf if conf is not None else AnalyticsSettings(pk=1)


def department_thresholds() -> dict[int, int]:
    return dict(DepartmentThreshold.objects.values_list("department_id", "success_threshold_seconds"))


def _check(errors: dict, name: str, value, upper: int) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        errors[name] = "must be a whole number"
    elif value < 0:
        errors[name] = "must be 0 or more"
    elif value > upper:
        errors[name] = f"must be at most {upper}"


def analytics_settings_update(*, actor, success_threshold_seconds: int | None = None,
                              callback_window_minutes: int | None = None,
                              departments: dict[int, int | None] | None = None,
                              unanswered_min_stay_seconds: int | None = None,
                              unanswered_counts_offline: bool | None = None) -> AnalyticsSettings:
    """Administrators only. `departments`: department id -> its own threshold, or None to follow
    the company's again; departments not named keep theirs. A bad value is a FieldError naming it,
    and nothing is saved."""
    require_admin(actor)
    errors: dict[str, str] = {}
    _check(errors, "success_threshold_seconds", success_threshold_seconds, MAX_THRESHOLD_SECONDS)
    _check(errors, "callback_window_minutes", callback_window_minutes, MAX_CALLBACK_WINDOW_MINUTES)
    _check(errors, "unanswered_min_stay_seconds", unanswered_min_stay_seconds, MAX_UNANSWERED_MIN_STAY_SECONDS)
    if unanswered_counts_offline is not None and not isinstance(unanswered_counts_offline, bool):
        errors["unanswered_counts_offline"] = "must be true or false"
    departments = departments or {}
    known = set(Department.objects.filter(pk__in=list(departments)).values_list("pk", flat=True))
    for dep, value in departments.items():
        name = f"departments.{dep}"
        if dep not in known:
            errors[name] = "no such department"
        else:
            _check(errors, name, value, MAX_THRESHOLD_SECONDS)
    if errors:
        raise FieldError(errors)
    with transaction.atomic():
        conf, _created = AnalyticsSettings.objects.get_or_create(pk=1)
        if success_threshold_seconds is not None:
            conf.success_threshold_seconds = success_threshold_seconds
        if callback_window_minutes is not None:
            conf.callback_window_minutes = callback_window_minutes
        if unanswered_min_stay_seconds is not None:
            conf.unanswered_min_stay_seconds = unanswered_min_stay_seconds
        if unanswered_counts_offline is not None:
            conf.unanswered_counts_offline = unanswered_counts_offline
        conf.save()
        for dep, value in departments.items():
            if value is None:
                DepartmentThreshold.objects.filter(department_id=dep).delete()
            else:
                DepartmentThreshold.objects.update_or_create(department_id=dep,
                                                             defaults={"success_threshold_seconds": value})
    return conf
