"""/api/v1/companies: companies as the caller sees them (as their responsible, or through the
cards they may see; administrators all), with requisites, phones, e-mails and responsible."""

from datetime import datetime

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import Field

from okno.contacts.companies import company_create, company_update
from okno.contacts.models import Company
from okno.contacts.selectors import company_contacts, company_get, company_list
from okno.core.errors import ErrorOut
from okno.core.paging import limit_query, offset_query

router = Router(tags=["companies"])


class CompanyPhoneOut(Schema):
    e164: str
    extension: str
    display: str


class CompanyOut(Schema):
    id: int
    name: str
    created_at: datetime
    contacts_count: int
    inn: str
    kpp: str
    ogrn: str
    responsible_id: int | None


class CompanyDetailOut(Schema):
    id: int
    name: str
    created_at: datetime
    updated_at: datetime
    contacts: list[int]
    inn: str = Field(description="10 digits (a company) or 12 (an individual entrepreneur); empty if not known")
    kpp: str
    ogrn: str = Field(description="OGRN (13 digits) or OGRNIP (15 digits)")
    legal_address: str
    actual_address: str
    bank_name: str
    bik: str
    settlement_account: str
    correspondent_account: str
    phones: list[CompanyPhoneOut]
    emails: list[str]
    responsible_id: int | None


class CompanyIn(Schema):
    """Requisites are checked with their check digits; a bad one is a 400 naming the field and the reason.
    An empty string clears a field. `phones`: numbers in any format; `emails`: addresses."""

    name: str | None = Field(None, max_length=1000)
    inn: str | None = Field(None, max_length=100)
    kpp: str | None = Field(None, max_length=100)
    ogrn: str | None = Field(None, max_length=100)
    legal_address: str | None = Field(None, max_length=2000)
    actual_address: str | None = Field(None, max_length=2000)
    bank_name: str | None = Field(None, max_length=1000)
    bik: str | None = Field(None, max_length=100)
    settlement_account: str | None = Field(None, max_length=100)
    correspondent_account: str | None = Field(None, max_length=100)
    phones: list[str] | None = Field(None, max_length=100)
    emails: list[str] | None = Field(None, max_length=100)
    responsible_id: int | None = Field(None, ge=1, le=2**63 - 1)


def _detail(company: Company, contact_ids: list[int]) -> dict:
    return {
        "id": company.pk, "name": company.name, "created_at": company.created_at, "updated_at": company.updated_at,
        "contacts": contact_ids, "inn": company.inn, "kpp": company.kpp, "ogrn": company.ogrn,
        "legal_address": company.legal_address, "actual_address": company.actual_address,
        "bank_name": company.bank_name, "bik": company.bik, "settlement_account": company.settlement_account,
        "correspondent_account": company.correspondent_account, "phones": company.phone_rows,
        "emails": company.emails or [], "responsible_id": company.responsible_id,
    }


def _raw(payload: CompanyIn) -> dict:
    # Given fields only: a field left out is not touched; null clears like "".
    return payload.dict(exclude_unset=True)


@router.get("", response=list[CompanyOut])
def list_companies(request: HttpRequest, q: str = "",
                   limit: int = limit_query(50), offset: int = offset_query()):
    rows = company_list(user=request.auth, q=q)[offset: offset + limit]
    return [{"id": c.pk, "name": c.name, "created_at": c.created_at, "contacts_count": c.contacts_count,
             "inn": c.inn, "kpp": c.kpp, "ogrn": c.ogrn, "responsible_id": c.responsible_id}
            for c in rows]


@router.post("", response={201: CompanyDetailOut, 400: ErrorOut})
def create_company(request: HttpRequest, payload: CompanyIn):
    """A new company; its responsible is the caller unless `responsible_id` names another."""
    company = company_create(actor=request.auth, raw=_raw(payload))
    return Status(201, _detail(company, []))


@router.get("/{int:company_id}", response={200: CompanyDetailOut, 404: ErrorOut})
def get_company(request: HttpRequest, company_id: int):
    company = company_get(user=request.auth, pk=company_id)
    ids = company_contacts(user=request.auth, company=company).values_list("pk", flat=True)
    return _detail(company, list(ids))


@router.patch("/{int:company_id}", response={200: CompanyDetailOut, 400: ErrorOut, 404: ErrorOut})
def patch_company(request: HttpRequest, company_id: int, payload: CompanyIn):
    company = company_update(actor=request.auth, company=company_get(user=request.auth, pk=company_id),
                             raw=_raw(payload))
    ids = company_contacts(user=request.auth, company=company).values_list("pk", flat=True)
    return _detail(company, list(ids))
