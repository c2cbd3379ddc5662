"""/api/v1/companies: companies as the caller sees them, through the cards they may see."""

from datetime import datetime

from django.http import HttpRequest
from ninja import Router, Schema

from okno.contacts.selectors import company_contacts, company_get, company_list
from okno.core.paging import limit_query, offset_query

router = Router(tags=["companies"])


class CompanyOut(Schema):
    id: int
    name: str
    created_at: datetime
    contacts_count: int


class CompanyDetailOut(Schema):
    id: int
    name: str
    created_at: datetime
    contacts: list[int]


@router.get("", response=list[CompanyOut])
def list_companies(request: HttpRequest, q: str = "",
                   limit: int = limit_query(50), offset: int = offset_query()):
    rows = company_list(user=request.auth, q=q)[offset: offset + limit]
    return [{"id": c.pk, "name": c.name, "created_at": c.created_at, "contacts_count": c.contacts_count}
            for c in rows]


@router.get("/{int:company_id}", response=CompanyDetailOut)
def get_company(request: HttpRequest, company_id: int):
    company = company_get(user=request.auth, pk=company_id)
    ids = company_contacts(user=request.auth, company=company).values_list("pk", flat=True)
    return {"id": company.pk, "name": company.name, "created_at": company.created_at, "contacts": list(ids)}
