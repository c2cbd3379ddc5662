"""The report page says it is open (live.js), so finished calls' pushes reach it (okno/analytics/live.py)."""

import re

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_POST

from okno.analytics.boards import board_for_viewer
from okno.analytics.live import REPORTS_TOPIC, report_viewer_watch

TOPIC = re.compile(r"^(reports|board:\d{1,12})$")


@login_required
@require_POST
def watch(request: HttpRequest) -> HttpResponse:
    topic = request.POST.get("topic") or REPORTS_TOPIC
    if not TOPIC.match(topic):
        return JsonResponse({"detail": "Invalid input", "errors": [{"field": "topic", "reason": "unknown topic"}]},
                            status=422)
    if topic != REPORTS_TOPIC:
        # Only a board one may see: a watch must not widen whose calls push to this user.
        board_for_viewer(user=request.user, board_id=int(topic.split(":")[1]))
    report_viewer_watch(user=request.user, topic=topic)
    return HttpResponse(status=204)
