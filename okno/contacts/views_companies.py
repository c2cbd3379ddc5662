"""The company pages: the list with search, and one company with the cards the user sees."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from okno.contacts.selectors import company_contacts, company_get, company_list

PAGE_SIZE = 50


@login_required
def company_list_page(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()
    page = Paginator(company_list(user=request.user, q=q), PAGE_SIZE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    context = {"page": page, "q": q, "query_without_page": params.urlencode()}
    if request.htmx and request.htmx.target == "company-results":
        return render(request, "contacts/_company_results.html", context)
    return render(request, "contacts/companies.html", context)


@login_required
def company_page(request: HttpRequest, pk: int) -> HttpResponse:
    company = company_get(user=request.user, pk=pk)
    cards = Paginator(company_contacts(user=request.user, company=company), PAGE_SIZE)
    return render(request, "contacts/company.html", {
        "company": company, "page": cards.get_page(request.GET.get("page")),
    })
