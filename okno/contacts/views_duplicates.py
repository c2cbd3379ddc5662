"""The duplicates page: every duplicate group the user may see, most certain first."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from okno.contacts.duplicates import duplicate_group_dismiss, duplicate_groups
from okno.core.paging import ids_of

GROUPS_PER_PAGE = 50


@login_required
def duplicates_page(request):
    page = Paginator(duplicate_groups(user=request.user), GROUPS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "contacts/duplicates.html", {"page": page, "groups": page.object_list})


@login_required
@require_POST
def duplicates_dismiss(request):
    ids = ids_of(request.POST.getlist("ids"))
    duplicate_group_dismiss(user=request.user, contact_ids=ids)
    return redirect("contacts:duplicates")
