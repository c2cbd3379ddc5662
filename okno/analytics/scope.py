"""Whose calls a user's reports count: an administrator everyone's, a head their department's tree
(by the call's department), anyone else their own (the calls whose employee they are).

A filter naming a department or an employee outside that is refused (403 naming the field), not
answered with zeros: a zero would read as "that person took no calls"."""

from django.db.models import Q

from okno.core.errors import ApiError
from okno.people.models import User


def _subtree(user) -> list[int]:
    cached = getattr(user, "_okno_analytics_subtree", None)
    if cached is None:
        cached = user.department.subtree_ids()
        user._okno_analytics_subtree = cached
    return cached


def _is_head(user) -> bool:
    return user.role == User.Role.HEAD and user.department_id is not None


def calls_scope_q(user) -> Q:
    """A filter on Call: the calls `user` may count."""
    if not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    if user.is_admin:
        return Q()
    if _is_head(user):
        return Q(department_id__in=_subtree(user))
    return Q(employee_id=user.pk)


def _refused(field: str, reason: str) -> ApiError:
    return ApiError("Forbidden", status=403, errors=[{"field": field, "reason": reason}])


def check_filters(*, user, department: int | None, employee: int | None) -> None:
    if user.is_admin:
        return
    if _is_head(user):
        tree = _subtree(user)
        if department is not None and department not in tree:
            raise _refused("department", "not a department of your tree")
        if employee is not None and not User.objects.filter(pk=employee, department_id__in=tree).exists():
            raise _refused("employee", "not an employee of your departments")
        return
    if department is not None and department != user.department_id:
        raise _refused("department", "you may see only your own figures")
    if employee is not None and employee != user.pk:
        raise _refused("employee", "you may see only your own figures")


def employees_for_filter(user):
    """The employees a user may pick in the report's filter."""
    qs = User.objects.filter(is_active=True).order_by("last_name", "first_name", "username")
    if user.is_admin:
        return qs
    if _is_head(user):
        return qs.filter(department_id__in=_subtree(user))
    return qs.filter(pk=user.pk)


def departments_for_filter(user):
    from okno.people.models import Department

    qs = Department.objects.order_by("name")
    if user.is_admin:
        return qs
    if _is_head(user):
        return qs.filter(pk__in=_subtree(user))
    return qs.none()


def chats_scope_q(user) -> Q:
    """A filter on Conversation annotated with `dep` (okno.analytics.chats_report.department_expr:
    the operator's department, else the channel's): the chats `user` may count. A head counts the
    chats of their tree, the missed ones of its channels too; anyone else the chats they operated."""
    if not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    if user.is_admin:
        return Q()
    if _is_head(user):
        return Q(dep__in=_subtree(user))
    return Q(operator_id=user.pk)


def process_scope_q(user, *, department_field: str, employee_field: str | None) -> Q:
    """A filter on any of the process report's rows (deals, leads, conversations, callbacks) by the
    fields naming their department and their employee: the same rule as the calls'."""
    if not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    if user.is_admin:
        return Q()
    if _is_head(user):
        return Q(**{f"{department_field}__in": _subtree(user)})
    if employee_field is None:
        return Q(pk__in=[])
    return Q(**{employee_field: user.pk})
