"""Custom fields admin: administrators add typed fields (text, number, date, choice) to every card."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from okno.contacts.custom_fields import custom_field_create, custom_field_update
from okno.contacts.models import CustomField
from okno.core.access import require_admin
from okno.core.errors import FieldError
from okno.core.reasons import reason_text


class CustomFieldForm(forms.Form):
    key = forms.CharField(label=gettext_lazy("Key"), max_length=64,
                          help_text=gettext_lazy("Latin letters, digits, - and _; used in the API and imports."))
    label = forms.CharField(label=gettext_lazy("Label"), max_length=200)
    type = forms.ChoiceField(label=gettext_lazy("Type"), choices=CustomField.Type.choices)
    choices = forms.CharField(label=gettext_lazy("Choices, one per line"), required=False, widget=forms.Textarea)
    position = forms.IntegerField(label=gettext_lazy("Position"), min_value=0, initial=0, required=False)

    def service_kwargs(self) -> dict:
        d = self.cleaned_data
        return {"label": d["label"], "type": d["type"], "choices": d["choices"].splitlines(),
                "position": d.get("position") or 0}


def _add_errors(form: forms.Form, exc: FieldError) -> None:
    for name, reason in exc.by_field.items():
        form.add_error(name if name in form.fields else None, reason_text(reason))


@login_required
def custom_field_list(request: HttpRequest) -> HttpResponse:
    require_admin(request.user)
    return render(request, "contacts/custom_fields.html", {"fields": CustomField.objects.all()})


@login_required
def custom_field_new(request: HttpRequest) -> HttpResponse:
    require_admin(request.user)
    form = CustomFieldForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            field = custom_field_create(actor=request.user, key=form.cleaned_data["key"], **form.service_kwargs())
        except FieldError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Field “%(label)s” added to every card.") % {"label": field.label})
            return redirect("contacts:custom_fields")
    return render(request, "contacts/custom_field_form.html", {"form": form}, status=400 if form.errors else 200)


@login_required
def custom_field_edit(request: HttpRequest, pk: int) -> HttpResponse:
    require_admin(request.user)
    field = get_object_or_404(CustomField, pk=pk)
    initial = {"key": field.key, "label": field.label, "type": field.type, "choices": "\n".join(field.choices),
               "position": field.position}
    form = CustomFieldForm(request.POST or None, initial=initial)
    form.fields["key"].disabled = True
    if request.method == "POST" and form.is_valid():
        try:
            custom_field_update(actor=request.user, field=field, **form.service_kwargs())
        except FieldError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("contacts:custom_fields")
    return render(request, "contacts/custom_field_form.html", {"form": form, "field": field},
                  status=400 if form.errors else 200)
