"""Calendar settings pages (administrators only): a list and a form per calendar."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from okno.core.access import require_admin
from okno.core.calendar import DAYS
from okno.core.calendar_services import calendar_create, calendar_update, supported_countries
from okno.core.errors import FieldError
from okno.core.models import Calendar
from okno.core.reasons import reason_text

DAY_LABELS = {
    "mon": gettext_lazy("Monday"), "tue": gettext_lazy("Tuesday"), "wed": gettext_lazy("Wednesday"),
    "thu": gettext_lazy("Thursday"), "fri": gettext_lazy("Friday"), "sat": gettext_lazy("Saturday"),
    "sun": gettext_lazy("Sunday"),
}
HOURS_HELP = gettext_lazy("For example 09:00-18:00, or 09:00-13:00,14:00-18:00 with a break; empty: a day off.")
DATES_HELP = gettext_lazy("One date a line, as 2026-12-31.")


class CalendarForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    timezone = forms.CharField(label=gettext_lazy("Time zone"), max_length=64, initial="Europe/Moscow",
                               help_text=gettext_lazy("A name from the tz database, such as Europe/Moscow "
                                                      "or Asia/Almaty."))
    country = forms.ChoiceField(label=gettext_lazy("Production calendar"), required=False, initial="RU",
                                help_text=gettext_lazy("The country whose public holidays, transferred days off "
                                                       "and working Saturdays apply."))
    extra_days_off = forms.CharField(label=gettext_lazy("Extra days off"), required=False, help_text=DATES_HELP,
                                     widget=forms.Textarea(attrs={"rows": 3}))
    extra_working_days = forms.CharField(label=gettext_lazy("Extra working days"), required=False,
                                         help_text=DATES_HELP, widget=forms.Textarea(attrs={"rows": 3}))
    is_default = forms.BooleanField(label=gettext_lazy("The company's calendar (for whatever names none)"),
                                    required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        countries = supported_countries()
        self.fields["country"].choices = [("", _("None: weekly hours only"))] + [
            (code, f"{name} ({code})") for code, name in sorted(countries.items(), key=lambda kv: kv[1])]
        for day in DAYS:
            self.fields[f"hours_{day}"] = forms.CharField(
                label=DAY_LABELS[day], required=False, max_length=100, help_text=HOURS_HELP if day == "mon" else "",
                widget=forms.TextInput(attrs={"placeholder": "09:00-18:00"}))
        order = ["name", "timezone", "country", *(f"hours_{d}" for d in DAYS), "extra_days_off",
                 "extra_working_days", "is_default"]
        self.order_fields(order)

    def values(self) -> dict:
        data = self.cleaned_data
        return {
            "name": data["name"], "timezone": data["timezone"], "country": data["country"],
            "hours": {day: data[f"hours_{day}"] for day in DAYS if data.get(f"hours_{day}")},
            "extra_days_off": data["extra_days_off"].split(),
            "extra_working_days": data["extra_working_days"].split(),
            "is_default": data["is_default"],
        }

    def add_service_errors(self, exc: FieldError) -> None:
        for name, reason in exc.by_field.items():
            field = name.replace("hours.", "hours_").split("[")[0]
            self.add_error(field if field in self.fields else None, reason_text(reason))


def _initial(cal: Calendar) -> dict:
    return {
        "name": cal.name, "timezone": cal.timezone, "country": cal.country, "is_default": cal.is_default,
        "extra_days_off": "\n".join(cal.extra_days_off or []),
        "extra_working_days": "\n".join(cal.extra_working_days or []),
        **{f"hours_{day}": (cal.hours or {}).get(day, "") for day in DAYS},
    }


@login_required
def calendar_index(request: HttpRequest) -> HttpResponse:
    require_admin(request.user)
    return render(request, "core/calendars.html", {"calendars": Calendar.objects.all(), "days": DAYS})


@login_required
def calendar_new(request: HttpRequest) -> HttpResponse:
    require_admin(request.user)
    form = CalendarForm(request.POST or None, initial={
        "timezone": "Europe/Moscow", "country": "RU", **{f"hours_{d}": "09:00-18:00" for d in DAYS[:5]}})
    if request.method == "POST" and form.is_valid():
        try:
            cal = calendar_create(actor=request.user, data=form.values())
        except FieldError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Calendar “%(name)s” created.") % {"name": cal.name})
            return redirect("calendars:index")
    return render(request, "core/calendar_form.html", {"form": form, "title": _("New calendar")},
                  status=400 if form.errors else 200)


@login_required
def calendar_edit(request: HttpRequest, pk: int) -> HttpResponse:
    require_admin(request.user)
    cal = get_object_or_404(Calendar, pk=pk)
    form = CalendarForm(request.POST or None, initial=_initial(cal))
    if request.method == "POST" and form.is_valid():
        try:
            calendar_update(actor=request.user, calendar=cal, data=form.values())
        except FieldError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("calendars:index")
    return render(request, "core/calendar_form.html", {"form": form, "title": cal.name, "calendar": cal},
                  status=400 if form.errors else 200)
