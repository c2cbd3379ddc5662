"""Errors a person can act on: the field and the reason, in API answers and forms alike."""

from ninja import Schema
from pydantic import ConfigDict


class ApiError(Exception):
    status = 400

    def __init__(self, detail: str, *, errors: list[dict] | None = None, status: int | None = None, **extra):
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []
        self.extra = extra
        if status is not None:
            self.status = status

    def payload(self) -> dict:
        body = {"detail": self.detail}
        if self.errors:
            body["errors"] = self.errors
        body.update(self.extra)
        return body


class FieldError(ApiError):
    """Bad value in one or more named fields (400)."""

    def __init__(self, errors: dict[str, str] | list[dict], detail: str = "Invalid input"):
        if isinstance(errors, dict):
            errors = [{"field": f, "reason": r} for f, r in errors.items()]
        super().__init__(detail, errors=errors, status=400)

    @property
    def by_field(self) -> dict[str, str]:
        return {e["field"]: e["reason"] for e in self.errors}


class FieldReasonOut(Schema):
    field: str
    reason: str


class ErrorOut(Schema):
    """Every error the API answers, whatever its status: `detail` for a person, `errors` naming
    each refused field and why. Some errors add their own keys (a 409 on a merged contact names
    `merged_into`, a 409 on a likely duplicate lists `candidates`)."""

    model_config = ConfigDict(extra="allow")

    detail: str
    errors: list[FieldReasonOut] = []
