from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from okno.people.models import Department, User


@login_required
def people_index(request):
    if not request.user.is_admin:
        raise PermissionDenied
    return render(request, "people/index.html", {
        "departments": Department.objects.select_related("parent"),
        "users": User.objects.select_related("department").order_by("last_name", "username"),
    })
