"""Team boards: a figure a department shows all its members, per employee (missed calls, chats
missed by operator). Showing a figure to everyone is how teams halve it.

Who sees a board: its department's members and the members of the departments below it, the
heads above it and administrators. Who sets one up: an administrator, or a head whose tree holds
the department. A board counts what the department's head would see (the department's tree),
whoever looks: a manager sees colleagues' figures on it, and only on it.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from okno.analytics.models_boards import ReportKind, TeamBoard
from okno.analytics.periods import Period
from okno.core.errors import ApiError, FieldError
from okno.people.models import Department, User

# The figures a board may show, per report; each is a key of the report's rows.
METRICS = {
    ReportKind.CALLS: {
        "missed": _("Missed calls"),
        "missed_not_called_back": _("Missed, not called back"),
        "calls": _("Calls"),
        "successful": _("Successful calls"),
        "talk_seconds": _("Talk time"),
    },
    ReportKind.CHATS: {
        "missed": _("Missed chats"),
        "chats": _("Chats"),
        "accepted": _("Chats accepted"),
        "first_response_seconds_avg": _("Average first response"),
    },
}
# Where fewer is better: the board lists the largest first either way (who to help), and the
# figure's colour says which way is good.
FEWER_IS_BETTER = {"missed", "missed_not_called_back", "first_response_seconds_avg"}
SECONDS = {"talk_seconds", "first_response_seconds_avg"}
# The reasons board_save gives, for the catalogue (pages show them through okno.core.reasons).
REASONS = [gettext_noop("not a figure of this report"), gettext_noop("unknown report"),
           gettext_noop("unknown period"), gettext_noop("unknown department"),
           gettext_noop("not a department of your tree"), gettext_noop("at most 120 characters")]


def _ancestors(department_id: int | None) -> list[int]:
    """The department and every one above it (trees are small: dozens of nodes)."""
    parents = dict(Department.objects.values_list("pk", "parent_id"))
    found: list[int] = []
    while department_id is not None and department_id not in found:
        found.append(department_id)
        department_id = parents.get(department_id)
    return found


def _head_tree(user) -> list[int]:
    if user.role == User.Role.HEAD and user.department_id:
        return user.department.subtree_ids()
    return []


def boards_for_user(*, user):
    """The published boards `user` may see, and for a head or an administrator the unpublished
    ones they may set up too."""
    qs = TeamBoard.objects.select_related("department").order_by("department__name", "name")
    if user.is_admin:
        return qs
    mine = set(_ancestors(user.department_id)) | set(_head_tree(user))
    return qs.filter(department_id__in=mine).exclude(
        published=False, department_id__in=set(mine) - set(_head_tree(user)))


def board_for_viewer(*, user, board_id: int) -> TeamBoard:
    """The board, if `user` may see it; a 404 otherwise (a board's existence is not news)."""
    board = boards_for_user(user=user).filter(pk=board_id).first()
    if board is None:
        raise Http404("no such board")
    return board


def departments_for_boards(*, user):
    """The departments `user` may set a board up for."""
    qs = Department.objects.order_by("name")
    if user.is_admin:
        return qs
    return qs.filter(pk__in=_head_tree(user))


def board_may_edit(*, user, department_id: int) -> bool:
    return user.is_admin or department_id in _head_tree(user)


def _refused() -> ApiError:
    return ApiError("Forbidden", status=403,
                    errors=[{"field": "department", "reason": "not a department of your tree"}])


@transaction.atomic
def board_save(*, actor, department_id: int | None, name: str, kind: str, metric: str, period: str,
               published: bool, board: TeamBoard | None = None) -> TeamBoard:
    """Creates (or changes) a department's board. An administrator or a head of the department's
    tree may; the figure must be one of the report's."""
    errors = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = "required"
    elif len(name) > 120:
        errors["name"] = "at most 120 characters"
    if kind not in METRICS:
        errors["kind"] = "unknown report"
    elif metric not in METRICS[kind]:
        errors["metric"] = "not a figure of this report"
    if period not in TeamBoard.Period.values:
        errors["period"] = "unknown period"
    if department_id is None or not Department.objects.filter(pk=department_id).exists():
        errors["department"] = "unknown department"
    if errors:
        raise FieldError(errors)
    if not board_may_edit(user=actor, department_id=department_id) or (
            board is not None and not board_may_edit(user=actor, department_id=board.department_id)):
        raise _refused()
    board = board or TeamBoard(created_by=actor)
    board.department_id, board.name, board.kind, board.metric = department_id, name, kind, metric
    board.period, board.published = period, published
    board.save()
    return board


@transaction.atomic
def board_delete(*, actor, board: TeamBoard) -> None:
    if not board_may_edit(user=actor, department_id=board.department_id):
        raise _refused()
    board.delete()


def board_period(period: str, today: date) -> Period:
    if period == TeamBoard.Period.WEEK:
        return Period(today - timedelta(days=today.weekday()), today)
    if period == TeamBoard.Period.MONTH:
        return Period(today.replace(day=1), today)
    return Period(today, today)


@dataclass(frozen=True)
class BoardLine:
    key: int | None
    label: str
    value: float | int | None
    mine: bool


def _principal(board: TeamBoard) -> User:
    """Whose eyes a board counts with: the department's head's (its tree), an unsaved user."""
    return User(role=User.Role.HEAD, department=board.department, is_active=True)


def board_figures(*, board: TeamBoard, viewer, today: date) -> dict:
    """The board's figure per employee for its period, largest first, with the department's total."""
    period = board_period(board.period, today)
    principal = _principal(board)
    if board.kind == ReportKind.CHATS:
        from okno.analytics.chats_report import ChatsQuery, chats_report

        report = chats_report(user=principal, query=ChatsQuery(period=period, group_by="employee"))
    else:
        from okno.analytics.calls_report import CallsQuery, calls_report

        report = calls_report(user=principal, query=CallsQuery(period=period, group_by="employee"))
    lines = [BoardLine(r["key"], str(r["label"]), r.get(board.metric), r["key"] == viewer.pk)
             for r in report["rows"]]
    lines.sort(key=lambda line: (line.value is None, -(line.value or 0), line.label))
    return {"period": period, "lines": lines, "total": report["totals"].get(board.metric),
            "metric_label": METRICS.get(board.kind, {}).get(board.metric, board.metric),
            "fewer_is_better": board.metric in FEWER_IS_BETTER, "seconds": board.metric in SECONDS}
