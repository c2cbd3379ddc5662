"""The supervisor board page (/work/board/): heads and administrators watch their managers live.

The page is the board's table and counters; `?part=counters` answers only the fragment that
board.js re-fetches when a push says something changed."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from okno.core.errors import ApiError
from okno.work.board import board_for, may_see_board
from okno.work.models import WorkItem
from okno.work.models_states import AgentStatus


def minutes_seconds(seconds: float | None) -> str:
    """Handle time as the board shows it: 4:05, or 1:02:03 past an hour."""
    if seconds is None:
        return "—"
    whole = int(round(seconds))
    hours, rest = divmod(whole, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


@login_required
def board(request: HttpRequest) -> HttpResponse:
    if not may_see_board(request.user):
        raise PermissionDenied
    raw = request.GET.get("department", "")
    department_id = int(raw) if raw.isdigit() else None
    try:
        data = board_for(actor=request.user, department_id=department_id)
    except ApiError as exc:
        raise Http404(exc.detail) from exc
    kinds = dict(WorkItem.Kind.choices)
    context = {
        "board": data, "department_id": department_id, "states": AgentStatus.choices,
        "rows": [(row, minutes_seconds(row.aht_seconds)) for row in data.rows],
        "queue": [(kind, label, data.queue.get(kind, 0)) for kind, label in kinds.items()],
        "queue_total": sum(data.queue.values()),
        "state_counts": [(value, label, data.by_state.get(value, 0)) for value, label in AgentStatus.choices],
    }
    template = "work/board_counters.html" if request.GET.get("part") == "counters" else "work/board.html"
    return render(request, template, context)
