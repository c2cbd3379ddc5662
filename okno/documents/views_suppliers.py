"""The suppliers directory's pages: the list with a search, a new supplier, a supplier's form."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from okno.core.errors import FieldError
from okno.core.phones import format_phone
from okno.core.reasons import reason_text
from okno.deals.models import Supplier
from okno.documents.forms import SupplierForm, custom_of, lines_of
from okno.documents.suppliers import (
    SupplierData,
    may_edit_suppliers,
    supplier_create,
    supplier_update,
    suppliers_list,
)

PAGE_SIZE = 50


@login_required
def suppliers(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "")
    page = Paginator(suppliers_list(q=q, include_inactive=True), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "documents/suppliers.html", {"page": page, "q": q,
                                                        "may_edit": may_edit_suppliers(request.user)})


def _initial(s: Supplier) -> dict:
    return {"name": s.name, "emails": "\n".join(s.emails), "terms": s.terms, "is_active": s.is_active,
            "phones": "\n".join(format_phone(p["e164"], p.get("extension", "")) for p in s.phones),
            "custom": "\n".join(f"{k}: {v}" for k, v in (s.custom or {}).items())}


def _field(name: str) -> str:
    return name.split("[", 1)[0]


@login_required
def supplier_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    supplier = get_object_or_404(Supplier, pk=pk) if pk else None
    form = SupplierForm(request.POST or None, initial=_initial(supplier) if supplier else None)
    if request.method == "POST" and form.is_valid():
        c = form.cleaned_data
        data = SupplierData(name=c["name"], emails=lines_of(c["emails"]), phones=lines_of(c["phones"]),
                            terms=c["terms"], custom=custom_of(c["custom"]), is_active=c["is_active"])
        try:
            if supplier is None:
                supplier = supplier_create(data=data, actor=request.user)
            else:
                supplier_update(supplier=supplier, data=data, actor=request.user)
        except FieldError as exc:
            for field, reason in exc.by_field.items():
                form.add_error(_field(field) if _field(field) in form.fields else None, reason_text(reason))
        else:
            messages.success(request, _("Supplier saved."))
            return redirect("documents:suppliers")
    return render(request, "documents/supplier_form.html", {"form": form, "supplier": supplier,
                                                            "may_edit": may_edit_suppliers(request.user)})
