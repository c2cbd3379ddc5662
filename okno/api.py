"""The REST API: each domain owns a ninja Router; this file only mounts them."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import ValidationError as NinjaValidationError

from okno.core.errors import ApiError
from okno.people.auth import api_auth

api = NinjaAPI(
    title="Okno API",
    version="1",
    auth=api_auth,
    urls_namespace="api",
    openapi_url="/openapi.json",
    docs_url="/docs",
)


@api.exception_handler(ApiError)
def _api_error(request, exc: ApiError):
    return api.create_response(request, exc.payload(), status=exc.status)


@api.exception_handler(Http404)
def _not_found(request, exc):
    return api.create_response(request, {"detail": "Not found"}, status=404)


@api.exception_handler(PermissionDenied)
def _forbidden(request, exc):
    return api.create_response(request, {"detail": str(exc) or "Forbidden"}, status=403)


@api.exception_handler(NinjaValidationError)
def _invalid(request, exc: NinjaValidationError):
    errors = [
        {"field": ".".join(str(p) for p in e.get("loc", []) if p not in ("body", "payload", "query")),
         "reason": e.get("msg", "")}
        for e in exc.errors
    ]
    return api.create_response(request, {"detail": "Invalid input", "errors": errors}, status=422)


from okno.contacts.api import router as contacts_router  # noqa: E402
from okno.contacts.api_companies import router as companies_router  # noqa: E402
from okno.contacts.api_duplicates import router as duplicates_router  # noqa: E402
from okno.contacts.api_imports import router as contacts_imports_router  # noqa: E402
from okno.core.api_calendars import router as calendars_router  # noqa: E402
from okno.deals.api import router as deals_router  # noqa: E402
from okno.deals.api_deals import router as deals_deals_router  # noqa: E402
from okno.deals.api_pipelines import router as pipelines_router  # noqa: E402
from okno.inbox.api import router as inbox_router  # noqa: E402
from okno.inbox.api_conversations import router as conversations_router  # noqa: E402
from okno.outbox.api import router as webhook_endpoints_router  # noqa: E402
from okno.people.api import router as people_router  # noqa: E402
from okno.robots.api import router as robots_router  # noqa: E402
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
