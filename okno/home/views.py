"""The home page: the user's day."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from okno.home.selectors import day_for
from okno.work.selectors import work_items_visible
from okno.work.services import workitem_done


@login_required
def my_day(request: HttpRequest) -> HttpResponse:
    return render(request, "home/day.html", {"day": day_for(user=request.user)})


@login_required
@require_POST
def work_item_done(request: HttpRequest, pk: int) -> HttpResponse:
    """"Done" on a work item of the day: closed, and the deal's robots hear of it."""
    workitem_done(actor=request.user, item=get_object_or_404(work_items_visible(request.user), pk=pk))
    return redirect("home:index")
