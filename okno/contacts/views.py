from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from okno.contacts.selectors import ContactMerged, contact_get, contact_list


@login_required
def contact_list_page(request):
    q = request.GET.get("q", "")
    contacts = contact_list(user=request.user, q=q)[:50]
    return render(request, "contacts/list.html", {"contacts": contacts, "q": q})


@login_required
def contact_card(request, pk: int):
    try:
        contact = contact_get(user=request.user, pk=pk)
    except ContactMerged as merged:
        return redirect("contacts:card", pk=merged.kept_id)
    return render(request, "contacts/card.html", {"contact": contact, "activities": contact.activities.all()[:100]})
