"""The home page: the user's day."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from okno.home.selectors import day_for


@login_required
def my_day(request: HttpRequest) -> HttpResponse:
    return render(request, "home/day.html", {"day": day_for(user=request.user)})
