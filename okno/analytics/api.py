"""/api/v1/analytics: the calls report and the report settings."""

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from okno.analytics.calls_report import calls_query_parse, calls_report
from okno.analytics.services import (
    MAX_CALLBACK_WINDOW_MINUTES,
    MAX_THRESHOLD_SECONDS,
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
          employee: str | None = Query(None, description="a user's id")):
    """Calls per employee, department, line, client or day for whole days `from`..`to` (YYYY-MM-DD,
    the company's time zone), with `compare=previous|year` and the filters `direction`, `line`,
    `department`, `employee`. Counts only what the caller may see: an administrator all calls, a
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


class DepartmentThresholdOut(Schema):
    department_id: int
    success_threshold_seconds: int


class SettingsOut(Schema):
    success_threshold_seconds: int
    callback_window_minutes: int
    departments: list[DepartmentThresholdOut]


def _out() -> dict:
    conf = analytics_settings_get()
    return {"success_threshold_seconds": conf.success_threshold_seconds,
            "callback_window_minutes": conf.callback_window_minutes,
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
        departments={d.department_id: d.success_threshold_seconds for d in body.departments})
    return _out()
