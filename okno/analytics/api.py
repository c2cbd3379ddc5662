"""/api/v1/analytics: the calls report and the report settings."""

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from okno.analytics.calls_report import calls_query_parse, calls_report
from okno.analytics.chats_report import chats_query_parse, chats_report
from okno.analytics.process_report import process_query_parse, process_report
from okno.analytics.services import (
    MAX_CALLBACK_WINDOW_MINUTES,
    MAX_THRESHOLD_SECONDS,
    MAX_UNANSWERED_MIN_STAY_SECONDS,
    analytics_settings_get,
    analytics_settings_update,
    department_thresholds,
)
from okno.core.access import require_admin
from okno.core.paging import MAX_ID

router = Router(tags=["analytics"])


@router.get("/analytics/calls", openapi_extra={"x-okno-errors": [422]})  # its query is read by calls_query_parse
def calls(request: HttpRequest,
          from_: str = Query(..., alias="from", description="first day, YYYY-MM-DD"),
          to: str = Query(..., description="last day, YYYY-MM-DD, at most 400 days after from"),
          group_by: str = Query("employee", description="employee, department, line, client or day"),
          compare: str | None = Query(None, description="previous or year"),
          direction: str | None = Query(None, description="in, out or internal"),
          line: str | None = Query(None, description="the line (DID) as the PBX sent it"),
          department: str | None = Query(None, description="a department's id"),
          employee: str | None = Query(None, description="a user's id"),
          outcome: str | None = Query(None, description="answered, successful, missed, called_back, "
                                      "missed_not_called_back, machine or voicemail"),
          tag: str | None = Query(None, description="a tag's id: calls of contacts with it")):
    """Calls per employee, department, line, client or day for whole days `from`..`to` (YYYY-MM-DD,
    the company's time zone), with `compare=previous|year` and the filters `direction`, `line`,
    `department`, `employee`, `outcome`, `tag`. Counts only what the caller may see: an administrator all calls, a
    head their department tree, anyone else their own. Definitions: docs/analytics.md."""
    # Declared above for the API's description; read as one, and refused by field, by the parser
    # the page uses too.
    query = calls_query_parse(request.GET)
    return calls_report(user=request.auth, query=query)


class DepartmentThresholdIn(Schema):
    department_id: int = Field(ge=1, le=MAX_ID)
    # null: the department follows the company's threshold again
    success_threshold_seconds: int | None = Field(None, ge=0, le=MAX_THRESHOLD_SECONDS)


class SettingsIn(Schema):
    success_threshold_seconds: int | None = Field(None, ge=0, le=MAX_THRESHOLD_SECONDS)
    callback_window_minutes: int | None = Field(None, ge=0, le=MAX_CALLBACK_WINDOW_MINUTES)
    departments: list[DepartmentThresholdIn] = []
    # What counts as an unanswered request (the process report, docs/analytics.md "Process").
    unanswered_min_stay_seconds: int | None = Field(None, ge=0, le=MAX_UNANSWERED_MIN_STAY_SECONDS)
    unanswered_counts_offline: bool | None = None


class DepartmentThresholdOut(Schema):
    department_id: int
    success_threshold_seconds: int


class SettingsOut(Schema):
    success_threshold_seconds: int
    callback_window_minutes: int
    departments: list[DepartmentThresholdOut]
    unanswered_min_stay_seconds: int
    unanswered_counts_offline: bool


def _out() -> dict:
    conf = analytics_settings_get()
    return {"success_threshold_seconds": conf.success_threshold_seconds,
            "callback_window_minutes": conf.callback_window_minutes,
            "unanswered_min_stay_seconds": conf.unanswered_min_stay_seconds,
            "unanswered_counts_offline": conf.unanswered_counts_offline,
            "departments": [{"department_id": d, "success_threshold_seconds": t}
                            for d, t in sorted(department_thresholds().items())]}


@router.get("/analytics/settings", response=SettingsOut)
def get_settings(request: HttpRequest):
    require_admin(request.auth)
    return _out()


@router.put("/analytics/settings", response=SettingsOut)
def put_settings(request: HttpRequest, body: SettingsIn):
    """Administrators only. Fields left out keep their value; a department's threshold of null
    returns it to the company's."""
    analytics_settings_update(
        actor=request.auth, success_threshold_seconds=body.success_threshold_seconds,
        callback_window_minutes=body.callback_window_minutes,
        departments={d.department_id: d.success_threshold_seconds for d in body.departments},
        unanswered_min_stay_seconds=body.unanswered_min_stay_seconds,
        unanswered_counts_offline=body.unanswered_counts_offline)
    return _out()


# --- chats and process (issue 16): the same shape as the calls ------------------------------------

@router.get("/analytics/chats", openapi_extra={"x-okno-errors": [403, 422]})  # read by chats_query_parse
def chats(request: HttpRequest,
          from_: str = Query(..., alias="from", description="first day, YYYY-MM-DD"),
          to: str = Query(..., description="last day, YYYY-MM-DD, at most 400 days after from"),
          group_by: str = Query("employee", description="employee, department, channel or day"),
          compare: str | None = Query(None, description="previous or year"),
          channel: str | None = Query(None, description="a channel's id"),
          department: str | None = Query(None, description="a department's id"),
          employee: str | None = Query(None, description="a user's id (the chat's operator)")):
    """Chats per operator (user id), department, channel or day for whole days `from`..`to`:
    chats, accepted, missed (offline messages and visitors who left unanswered), first and
    average response time, ratings, spam apart; `compare=previous|year`. An administrator counts
    every chat, a head their department tree, anyone else the chats they operated.
    Definitions: docs/analytics.md, "Chats"."""
    return chats_report(user=request.auth, query=chats_query_parse(request.GET))


@router.get("/analytics/process", openapi_extra={"x-okno-errors": [403, 422]})  # read by process_query_parse
def process(request: HttpRequest,
            from_: str = Query(..., alias="from", description="first day, YYYY-MM-DD"),
            to: str = Query(..., description="last day, YYYY-MM-DD, at most 400 days after from"),
            group_by: str = Query("source", description="source, department, employee or pipeline"),
            compare: str | None = Query(None, description="previous or year"),
            department: str | None = Query(None, description="a department's id"),
            employee: str | None = Query(None, description="a user's id")):
    """How orders and requests were handled, for the deals, leads, conversations and callback work
    items created in `from`..`to`: order processing time, pauses and orders lost in them, leads
    converted (by source) and not taken in time, unanswered requests (visitors who left at once,
    offline messages and spam apart), callbacks answered late; `compare=previous|year`.
    Definitions: docs/analytics.md, "Process"."""
    return process_report(user=request.auth, query=process_query_parse(request.GET))


@router.get("/analytics/calls/heatmap", openapi_extra={"x-okno-errors": [403, 422]})  # read by calls_query_parse
def calls_heatmap_api(request: HttpRequest,
                      from_: str = Query(..., alias="from", description="first day, YYYY-MM-DD"),
                      to: str = Query(..., description="last day, YYYY-MM-DD, at most 400 days after from"),
                      direction: str | None = Query(None, description="in, out or internal"),
                      line: str | None = Query(None, description="the line (DID) as the PBX sent it"),
                      department: str | None = Query(None, description="a department's id"),
                      employee: str | None = Query(None, description="a user's id"),
                      outcome: str | None = Query(None, description="answered, successful, missed, ..."),
                      tag: str | None = Query(None, description="a tag's id: calls of contacts with it")):
    """Inbound and missed calls by weekday (ISO, Monday 1) and hour of day in the company's time
    zone, for whole days `from`..`to` and the calls report's filters: 168 cells, quiet ones with 0.
    Definitions: docs/analytics.md, "Load"."""
    from okno.analytics.calls_heatmap import calls_heatmap

    return calls_heatmap(user=request.auth, query=calls_query_parse(request.GET))
