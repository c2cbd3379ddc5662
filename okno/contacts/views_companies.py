"""The company pages: the list with search, a new company, and one company with its requisites,
the cards the user sees, their deals (drawn by the deals app) and their merged timeline."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from okno.contacts.companies import FIELDS, company_create, company_update
from okno.contacts.models import Company
from okno.contacts.selectors import company_contacts, company_get, company_list
from okno.core.errors import FieldError
from okno.core.reasons import reason_text
from okno.people.models import User
from okno.people.visibility import users_visible_to
from okno.timeline.selectors import timeline_for_contacts

PAGE_SIZE = 50
TIMELINE_PAGE = 50


@login_required
def company_list_page(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()
    page = Paginator(company_list(user=request.user, q=q).select_related("responsible"), PAGE_SIZE).get_page(
        request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    context = {"page": page, "q": q, "query_without_page": params.urlencode()}
    if request.htmx and request.htmx.target == "company-results":
        return render(request, "contacts/_company_results.html", context)
    return render(request, "contacts/companies.html", context)


def _account_text(account: str) -> str:
    """40702810938000012345 -> "40702 810 9 3800 0012345": balance account, currency, key, branch, number."""
    if len(account) != 20:
        return account
    return " ".join((account[:5], account[5:8], account[8], account[9:13], account[13:]))


def requisites_rows(company: Company) -> list[tuple[str, str]]:
    """The company's requisites as (label, text), those filled in only, in the order of an invoice."""
    rows = [
        (_("INN"), company.inn), (_("KPP"), company.kpp),
        (_("OGRNIP") if len(company.ogrn) == 15 else _("OGRN"), company.ogrn),
        (_("Legal address"), company.legal_address), (_("Actual address"), company.actual_address),
        (_("Bank"), company.bank_name), (_("BIK"), company.bik),
        (_("Settlement account"), _account_text(company.settlement_account)),
        (_("Correspondent account"), _account_text(company.correspondent_account)),
    ]
    return [(label, value) for label, value in rows if value]


def _page_number(raw: str | None) -> int:
    try:
        return max(1, min(int(raw or 1), 1000))
    except ValueError:
        return 1


@login_required
def company_page(request: HttpRequest, pk: int) -> HttpResponse:
    company = company_get(user=request.user, pk=pk)
    company = Company.objects.select_related("responsible").get(pk=company.pk)
    cards = company_contacts(user=request.user, company=company)
    page = Paginator(cards, PAGE_SIZE).get_page(request.GET.get("page"))
    tpage = _page_number(request.GET.get("tpage"))
    activities = timeline_for_contacts(contact_ids=cards.values("pk"), limit=TIMELINE_PAGE + 1,
                                       offset=(tpage - 1) * TIMELINE_PAGE)
    return render(request, "contacts/company.html", {
        "company": company, "page": page, "requisites": requisites_rows(company),
        "activities": activities[:TIMELINE_PAGE], "tpage": tpage,
        "older": tpage + 1 if len(activities) > TIMELINE_PAGE else None,
        "newer": tpage - 1 if tpage > 1 else None,
    })


def _form_values(source) -> dict:
    """What the form shows: a company's stored values, or what was posted."""
    if isinstance(source, Company):
        values = {f: getattr(source, f) for f in FIELDS if f not in ("phones", "emails", "responsible_id")}
        values["phones"] = "\n".join(p["display"] for p in source.phone_rows)
        values["emails"] = "\n".join(source.emails or [])
        values["responsible_id"] = str(source.responsible_id or "")
        return values
    return {f: source.get(f, "") for f in FIELDS}


def _company_form(request: HttpRequest, company: Company | None) -> HttpResponse:
    errors = {}
    if request.method == "POST":
        # Fields the form sent; a new company without a responsible chosen is the user's.
        raw = {f: request.POST[f] for f in FIELDS if f in request.POST}
        try:
            if company is None:
                company = company_create(actor=request.user, raw=raw)
            else:
                company = company_update(actor=request.user, company=company, raw=raw)
            return redirect("contacts:company", pk=company.pk)
        except FieldError as refused:
            errors = {field: reason_text(reason) for field, reason in refused.by_field.items()}
        values = _form_values(request.POST)
    else:
        values = _form_values(company) if company is not None else {
            **{f: "" for f in FIELDS}, "responsible_id": str(request.user.pk)}
    users = list(User.objects.filter(users_visible_to(request.user), is_active=True).order_by("last_name", "username"))
    current = company.responsible if company is not None else None
    if current is not None and current not in users:
        users.insert(0, current)
    return render(request, "contacts/company_form.html", {
        "company": company, "values": values, "errors": errors, "users": users,
    }, status=400 if errors else 200)


@login_required
def company_new(request: HttpRequest) -> HttpResponse:
    return _company_form(request, None)


@login_required
def company_edit(request: HttpRequest, pk: int) -> HttpResponse:
    company = company_get(user=request.user, pk=pk)
    return _company_form(request, Company.objects.select_related("responsible").get(pk=company.pk))
