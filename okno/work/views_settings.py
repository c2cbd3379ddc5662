"""A department's work settings page (/work/settings/<department_id>/): the queue's rules as a form
for administrators and the department's head (or a head above it). Saving goes through
work_settings_update, the service the API's PUT uses; a refused value's reason shows beside its
input, translated (reason_text), with a 400."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from okno.core.errors import ApiError, FieldError
from okno.core.reasons import reason_text
from okno.people.models import Department
from okno.work.models import DEFAULT_PRIORITIES, DepartmentWorkSettings, WorkItem
from okno.work.queue_settings import SETTING_LIMITS, access_department_settings, work_settings_for, work_settings_update

NUMBERS = {  # field: (label, help text); bounds from SETTING_LIMITS
    "daily_capacity": (gettext_lazy("Daily capacity"),
                       gettext_lazy("Open items one person may hold due on one day; booking onto a full day "
                                    "offers the first free one.")),
    "max_break_minutes": (gettext_lazy("Longest break, minutes"),
                          gettext_lazy("After a longer break (or at the start of the day) Next serves a dormant "
                                       "customer to win back first.")),
    "dormant_after_days": (gettext_lazy("Dormant after, days"),
                           gettext_lazy("A customer with no activity for this many days is dormant.")),
    "retry_minutes": (gettext_lazy("Retry after “no answer”, minutes"),
                      gettext_lazy("An item closed with “no answer” comes back after this long.")),
    "wrap_up_seconds": (gettext_lazy("Wrap-up, seconds"),
                        gettext_lazy("After an outcome the manager screen waits this long for notes before the "
                                     "next item comes by itself.")),
}


def _priority_field(kind: str) -> str:
    return f"priority_{kind}"


class WorkSettingsForm(forms.Form):
    """One number per kind (its rank), the numbers, the Next-only switch. Bounds are the service's
    (shown as the inputs' min and max); the service itself refuses what is out of them."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        labels = dict(WorkItem.Kind.choices)
        for kind in DEFAULT_PRIORITIES:
            self.fields[_priority_field(kind)] = forms.IntegerField(
                label=labels.get(kind, kind), widget=forms.NumberInput(attrs={"min": 1, "max": 100}),
                help_text=gettext_lazy("Rank in the queue, 1 first; kinds of equal rank go by due time."))
        for name, (label, help_text) in NUMBERS.items():
            least, most = SETTING_LIMITS[name]
            self.fields[name] = forms.IntegerField(label=label, help_text=help_text,
                                                   widget=forms.NumberInput(attrs={"min": least, "max": most}))
        field = DepartmentWorkSettings._meta.get_field("next_only")
        self.fields["next_only"] = forms.BooleanField(label=field.verbose_name, help_text=field.help_text,
                                                      required=False)

    def priority_fields(self) -> list:
        return [self[_priority_field(kind)] for kind in DEFAULT_PRIORITIES]

    def other_fields(self) -> list:
        return [self[name] for name in (*NUMBERS, "next_only")]

    def as_data(self) -> dict:
        """The service's input (the API's PUT body)."""
        data = self.cleaned_data
        return {"priorities": {kind: data[_priority_field(kind)] for kind in DEFAULT_PRIORITIES},
                **{name: data[name] for name in NUMBERS}, "next_only": bool(data["next_only"])}

    def add_service_errors(self, exc: FieldError) -> None:
        """Each refusal beside its input (`priorities.callback` → the callback's rank), translated."""
        for name, reason in exc.by_field.items():
            if name.startswith("priorities."):
                name = _priority_field(name.split(".", 1)[1])
            self.add_error(name if name in self.fields else None, reason_text(reason))


def _initial(row: DepartmentWorkSettings) -> dict:
    rank = row.rank()
    return {**{_priority_field(kind): rank[kind] for kind in DEFAULT_PRIORITIES},
            **{name: getattr(row, name) for name in NUMBERS}, "next_only": row.next_only}


@login_required
def work_settings_page(request: HttpRequest, department_id: int) -> HttpResponse:
    department = get_object_or_404(Department, pk=department_id)
    try:
        access_department_settings(actor=request.user, department=department, write=True)
    except ApiError as exc:
        raise PermissionDenied(exc.detail) from exc
    form = WorkSettingsForm(request.POST or None, initial=_initial(work_settings_for(department)))
    if request.method == "POST" and form.is_valid():
        try:
            work_settings_update(actor=request.user, department=department, data=form.as_data())
        except FieldError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Work settings of %(department)s saved.") % {"department": department.name})
            return redirect("work:settings", department_id=department.pk)
    return render(request, "work/settings.html", {"form": form, "department": department},
                  status=400 if form.errors else 200)
