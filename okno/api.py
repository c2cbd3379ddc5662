"""The REST API: each domain owns a ninja Router; this file mounts them, answers every error under
/api/ as JSON and documents the error statuses of every operation.

Errors have one shape whatever their status, `ErrorOut` (okno/core/errors.py):
{"detail": "...", "errors": [{"field": "...", "reason": "..."}]}. That includes a path no route
matches (404), a method a path does not take (405, with `Allow`) and a server error (500, with no
traceback: it is logged and reported as Django reports any other)."""

import inspect
from datetime import datetime, timedelta
from functools import wraps
from http import HTTPStatus

import orjson
from django.core.exceptions import BadRequest, PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.signals import got_request_exception
from django.db import DataError, IntegrityError
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import URLPattern, re_path
from django.utils.log import log_response
from ninja import NinjaAPI, Swagger
from ninja.errors import ValidationError as NinjaValidationError
from ninja.renderers import JSONRenderer
from ninja.responses import NinjaJSONEncoder
from pydantic import BaseModel

from okno.core.errors import ApiError, ErrorOut
from okno.people.auth import api_auth


def error_statuses(method: str, operation: dict) -> list[int]:
    """The error statuses an operation can answer, read from its OpenAPI description: 401 and
    403 where it needs a caller (CSRF and role refusals are 403), 400, 404 and 422 where it takes
    input (a refused value, a named row that is missing or hidden, a malformed value), 413 where
    it takes a body (over DATA_UPLOAD_MAX_MEMORY_SIZE). A 409 is declared by its endpoint
    (`response={..., 409: ErrorOut}`): only some operations can conflict."""
    # An endpoint that reads its input itself (request.GET) names what it answers:
    # `openapi_extra={"x-okno-errors": [422]}`.
    statuses = list(operation.pop("x-okno-errors", []))
    if operation.get("security"):
        statuses += [401, 403]
    if operation.get("parameters") or "requestBody" in operation:
        statuses += [400, 404, 422]
    if "requestBody" in operation:
        statuses.append(413)
    return sorted(set(statuses))


# The widest integer either database stores (PostgreSQL's bigint, SQLite's INTEGER). SQLite
# refuses a wider one in any query (OverflowError), even in `pk__in`, where Django does not
# guard as it does for `pk=`.
INT_RANGE = (-(2**63), 2**63 - 1)
# PostgreSQL refuses a time zone offset past 15:59 ("time zone displacement out of range"), where
# Python takes up to 23:59; no place on earth is past 14:00.
MAX_UTC_OFFSET = timedelta(hours=15, minutes=59)


def _unstorable(value, path: str) -> tuple[str, str] | None:
    """(field, reason) for the first value no column holds, in a value ninja validated: an int,
    a datetime, a list, or a schema's fields. A free-form dict (a channel's settings) is stored
    as JSON, where any number fits, and is not looked into."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return None if INT_RANGE[0] <= value <= INT_RANGE[1] else (
            path, f"must be between {INT_RANGE[0]} and {INT_RANGE[1]}")
    if isinstance(value, datetime):
        offset = value.utcoffset()
        return None if offset is None or abs(offset) <= MAX_UTC_OFFSET else (
            path, "the time zone offset must be between -15:59 and +15:59")
    if isinstance(value, BaseModel):
        items = ((name, getattr(value, name)) for name in type(value).model_fields)
    elif isinstance(value, list | tuple):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        found = _unstorable(item, f"{path}.{key}" if path else str(key))
        if found is not None:
            return found
    return None


def _refusing_unstorable_values(view_func):
    """An operation's function, called only with values a column holds: a wider number or an
    impossible time zone is the caller's mistake (422 naming the field) on both databases, not a
    500 from one of them (SQLite's OverflowError, PostgreSQL's DataError) or a silent empty match."""

    @wraps(view_func)
    def checked(request: HttpRequest, *args, **kwargs):
        for name, value in kwargs.items():
            # A body or query schema's fields are named as the client sent them, without "payload".
            found = _unstorable(value, "" if isinstance(value, BaseModel) else name)
            if found is not None:
                raise ApiError("Invalid input", status=422, errors=[{"field": found[0], "reason": found[1]}])
        return view_func(request, *args, **kwargs)

    checked.okno_unstorable_refused = True
    return checked


class FastJSONRenderer(JSONRenderer):
    """ninja's JSON, written by orjson: a report of a thousand rows (a year by employee against the
    previous one, 410-490 kB) took 7.6-8.8 ms to encode with the standard library, about 1 ms so.
    Dates and times still go through ninja's encoder (the same text as before), and so does
    anything orjson does not know; keys that are not strings are written as strings, as json does."""

    def render(self, request: HttpRequest, data, *, response_status: int) -> bytes:
        return orjson.dumps(data, default=_ENCODER.default,
                            option=orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS)


_ENCODER = NinjaJSONEncoder()


class OknoAPI(NinjaAPI):
    def get_openapi_schema(self, **kwargs):
        schema = super().get_openapi_schema(**kwargs)
        error = ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.update(error.pop("$defs", {}))
        components.setdefault(ErrorOut.__name__, error)
        content = {"application/json": {"schema": {"$ref": f"#/components/schemas/{ErrorOut.__name__}"}}}
        for operations in schema["paths"].values():
            for method, operation in operations.items():
                responses = operation.setdefault("responses", {})
                for status in error_statuses(method, operation):
                    if status not in responses and str(status) not in responses:
                        responses[status] = {"description": HTTPStatus(status).phrase, "content": content}
        return schema

    def _get_urls(self):
        for bound in self._get_bound_routers():
            for path_view in bound.path_operations.values():
                for operation in path_view.operations:
                    if not getattr(operation.view_func, "okno_unstorable_refused", False) \
                            and not inspect.iscoroutinefunction(operation.view_func):
                        operation.view_func = _refusing_unstorable_values(operation.view_func)
        urls = [URLPattern(u.pattern, _json_errors(self, u.callback), u.default_args, u.name)
                if isinstance(u, URLPattern) else u for u in super()._get_urls()]
        # Last: a path under /api/ that no route matches is a JSON 404, not the site's HTML page.
        urls.append(re_path(r"^", _json_errors(self, _no_route), name="no-route"))
        return urls


def _no_route(request: HttpRequest, *args, **kwargs):
    raise Http404("No such endpoint")


def _json_errors(api: "OknoAPI", view):
    """Around every view under /api/: ninja's plain-text 405, and the 404s and exceptions of the
    views that are not operations (the root, the schema, the catch-all), answered as JSON."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            response = view(request, *args, **kwargs)
        except Http404 as exc:
            return _not_found(request, exc)
        except Exception as exc:  # noqa: BLE001 - the JSON 500 is the point
            return _server_error(request, exc)
        if response.status_code == 405 and not response.get("Content-Type", "").startswith("application/json"):
            allowed = response.get("Allow", "")
            response = api.create_response(
                request, {"detail": f"Method {request.method} not allowed; allowed: {allowed}"}, status=405)
            response["Allow"] = allowed
        return response

    wrapped.csrf_exempt = True  # ninja checks CSRF itself, for session callers only
    return wrapped


api = OknoAPI(
    renderer=FastJSONRenderer(),
    title="Okno API",
    version="1",
    auth=api_auth,
    urls_namespace="api",
    openapi_url="/openapi.json",
    docs_url="/docs",
    # Swagger UI from ninja's static files ("ninja" in INSTALLED_APPS), no CDN; and no validator
    # badge, which would send the schema's address to validator.swagger.io.
    docs=Swagger(settings={"validatorUrl": None}),
)


def _error(request: HttpRequest, status: int, detail: str, **extra) -> HttpResponse:
    return api.create_response(request, {"detail": detail, **extra}, status=status)


@api.exception_handler(ApiError)
def _api_error(request, exc: ApiError):
    return api.create_response(request, exc.payload(), status=exc.status)


@api.exception_handler(Http404)
def _not_found(request, exc):
    detail = str(exc) if str(exc) == "No such endpoint" else "Not found"
    return _error(request, 404, detail)


@api.exception_handler(PermissionDenied)
def _forbidden(request, exc):
    return _error(request, 403, str(exc) or "Forbidden")


@api.exception_handler(NinjaValidationError)
def _invalid(request, exc: NinjaValidationError):
    errors = [
        {"field": ".".join(str(p) for p in e.get("loc", []) if p not in ("body", "payload", "query")),
         "reason": e.get("msg", "")}
        for e in exc.errors
    ]
    return _error(request, 422, "Invalid input", errors=errors)


@api.exception_handler(DjangoValidationError)
def _model_invalid(request, exc: DjangoValidationError):
    """A model's own validation refused a value a service passed on: the field and the reason."""
    if hasattr(exc, "error_dict"):
        errors = [{"field": field, "reason": " ".join(m for e in errs for m in e.messages)}
                  for field, errs in exc.error_dict.items()]
    else:
        errors = [{"field": "", "reason": m} for m in exc.messages]
    return _error(request, 400, "Invalid input", errors=errors)


@api.exception_handler(RequestDataTooBig)
def _too_big(request, exc):
    return _error(request, 413, "Body too large")


@api.exception_handler(SuspiciousOperation)
@api.exception_handler(BadRequest)
def _bad_request(request, exc):
    return _error(request, 400, "Bad request")


@api.exception_handler(OverflowError)
def _out_of_range(request, exc):
    """A number or a date out of a column's range that the check above did not see (a date moved
    past year 1 or 9999 by its time zone)."""
    return _error(request, 422, "Invalid input", errors=[{"field": "", "reason": "a number or a date is out of range"}])


@api.exception_handler(DataError)
@api.exception_handler(IntegrityError)
def _refused_by_the_database(request, exc):
    """A value the database refused where no check before it did (a number past a 32-bit column,
    a negative position, a text past its column, a clash with a stored row): the caller's input,
    so a 422 rather than a 500, but logged with the traceback as an error, since the field's own
    check is missing."""
    response = _error(request, 422, "Invalid input", errors=[
        {"field": "", "reason": "a value is out of its range, too long, or clashes with a stored one"}])
    log_response("Refused by the database: %s", request.path, response=response, request=request, level="error",
                 exception=exc)
    return response


@api.exception_handler(Exception)
def _server_error(request, exc):
    """Logged and signalled as Django does for any view (admins' mail, error trackers, the test
    client's re-raise); the caller gets a JSON 500 without the traceback."""
    got_request_exception.send(sender=None, request=request)
    response = _error(request, 500, "Internal server error")
    log_response("Internal Server Error: %s", request.path, response=response, request=request, exception=exc)
    return response


from okno.analytics.api import router as analytics_router  # noqa: E402
from okno.contacts.api import router as contacts_router  # noqa: E402
from okno.contacts.api_companies import router as companies_router  # noqa: E402
from okno.contacts.api_duplicates import router as duplicates_router  # noqa: E402
from okno.contacts.api_imports import router as contacts_imports_router  # noqa: E402
from okno.core.api_calendars import router as calendars_router  # noqa: E402
from okno.deals.api import router as deals_router  # noqa: E402
from okno.deals.api_deals import router as deals_deals_router  # noqa: E402
from okno.deals.api_pipelines import router as pipelines_router  # noqa: E402
from okno.documents.api import router as documents_router  # noqa: E402
from okno.inbox.api import router as inbox_router  # noqa: E402
from okno.inbox.api_conversations import router as conversations_router  # noqa: E402
from okno.invoices.api import router as invoices_router  # noqa: E402
from okno.outbox.api import router as webhook_endpoints_router  # noqa: E402
from okno.people.api import router as people_router  # noqa: E402
from okno.robots.api import router as robots_router  # noqa: E402
from okno.stores.api import router as stores_router  # noqa: E402
from okno.telephony.api import router as calls_router  # noqa: E402
from okno.work.api import router as work_router  # noqa: E402

api.add_router("/v1", people_router)
api.add_router("/v1", duplicates_router)
api.add_router("/v1/contacts", contacts_router)
# Imports and export share the prefix; their paths never look like a contact id.
api.add_router("/v1/contacts", contacts_imports_router)
api.add_router("/v1/companies", companies_router)
api.add_router("/v1", inbox_router)
api.add_router("/v1", conversations_router)
api.add_router("/v1", deals_router)
api.add_router("/v1", calendars_router)
api.add_router("/v1", pipelines_router)
api.add_router("/v1", deals_deals_router)
api.add_router("/v1", robots_router)
api.add_router("/v1", webhook_endpoints_router)
api.add_router("/v1", calls_router)
api.add_router("/v1", work_router)
api.add_router("/v1", analytics_router)
api.add_router("/v1", invoices_router)
api.add_router("/v1", stores_router)
api.add_router("/v1", documents_router)
