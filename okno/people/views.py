"""People admin pages (administrators only) and the language switch (everyone)."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from okno.core.access import require_admin
from okno.core.errors import FieldError
from okno.core.reasons import reason_text
from okno.people import services
from okno.people.models import Department, User
from okno.people.selectors import department_tree

# Service errors name the model's id fields; the forms show them by their own names.
FORM_FIELD = {"parent_id": "parent", "department_id": "department", "calendar_id": "calendar"}


def _add_errors(form: forms.Form, exc: FieldError) -> None:
    for name, reason in exc.by_field.items():
        name = FORM_FIELD.get(name, name)
        form.add_error(name if name in form.fields else None, reason_text(reason))



class DepartmentForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    parent = forms.TypedChoiceField(label=gettext_lazy("Parent department"), required=False, coerce=int,
                                    empty_value=None)
    calendar = forms.TypedChoiceField(
        label=gettext_lazy("Business calendar"), required=False, coerce=int, empty_value=None,
        help_text=gettext_lazy("Working hours and days off its callbacks and deadlines count on. "
                               "Empty: the parent department's, then the company's calendar."))

    def __init__(self, *args, **kwargs):
        from okno.core.models import Calendar

        super().__init__(*args, **kwargs)
        self.fields["parent"].choices = [("", "—")] + [(d.pk, f"{d.indent}{d.name}") for d in department_tree()]
        self.fields["calendar"].choices = [("", "—")] + [(c.pk, c.name) for c in Calendar.objects.all()]


class UserEditForm(forms.Form):
    first_name = forms.CharField(label=gettext_lazy("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=gettext_lazy("Last name"), max_length=150, required=False)
    email = forms.EmailField(label=gettext_lazy("E-mail"), required=False)
    role = forms.ChoiceField(label=gettext_lazy("Role"), choices=User.Role.choices)
    department = forms.TypedChoiceField(label=gettext_lazy("Department"), required=False, coerce=int,
                                        empty_value=None)
    is_active = forms.BooleanField(label=gettext_lazy("Active (may log in)"), required=False, initial=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].choices = [("", "—")] + [(d.pk, f"{d.indent}{d.name}") for d in department_tree()]


class UserCreateForm(UserEditForm):
    username = forms.CharField(label=gettext_lazy("Username"), max_length=150)
    password = forms.CharField(label=gettext_lazy("Password"), widget=forms.PasswordInput(render_value=True))
    field_order = ["username", "password", "first_name", "last_name", "email", "role", "department"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["is_active"]


@login_required
def people_index(request: HttpRequest) -> HttpResponse:
    require_admin(request.user)
    return render(request, "people/index.html", {
        "departments": department_tree(),
        "users": User.objects.select_related("department").order_by("-is_active", "last_name", "username"),
    })


@login_required
def department_new(request: HttpRequest) -> HttpResponse:
    require_admin(request.user)
    form = DepartmentForm(request.POST or None, initial={"parent": request.GET.get("parent")})
    if request.method == "POST" and form.is_valid():
        try:
            dep = services.department_create(actor=request.user, name=form.cleaned_data["name"],
                                             parent_id=form.cleaned_data["parent"],
                                             calendar_id=form.cleaned_data["calendar"])
        except FieldError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Department “%(name)s” created.") % {"name": dep.name})
            return redirect("people:index")
    return render(request, "people/form.html", {"form": form, "title": _("New department")},
                  status=400 if form.errors else 200)


@login_required
def department_edit(request: HttpRequest, pk: int) -> HttpResponse:
    require_admin(request.user)
    dep = get_object_or_404(Department, pk=pk)
    form = DepartmentForm(request.POST or None,
                          initial={"name": dep.name, "parent": dep.parent_id, "calendar": dep.calendar_id})
    if request.method == "POST" and form.is_valid():
        try:
            services.department_update(actor=request.user, department=dep, name=form.cleaned_data["name"],
                                       parent_id=form.cleaned_data["parent"],
                                       calendar_id=form.cleaned_data["calendar"])
        except FieldError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("people:index")
    return render(request, "people/form.html", {"form": form, "title": dep.name}, status=400 if form.errors else 200)


@login_required
def user_new(request: HttpRequest) -> HttpResponse:
    require_admin(request.user)
    form = UserCreateForm(request.POST or None, initial={"role": User.Role.MANAGER,
                                                         "department": request.GET.get("department")})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            user = services.user_create(
                actor=request.user, username=d["username"], password=d["password"], first_name=d["first_name"],
                last_name=d["last_name"], email=d["email"], department_id=d["department"], role=d["role"],
            )
        except FieldError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("User %(name)s created.") % {"name": user.display_name})
            return redirect("people:index")
    return render(request, "people/form.html", {"form": form, "title": _("New user")},
                  status=400 if form.errors else 200)


@login_required
def user_edit(request: HttpRequest, pk: int) -> HttpResponse:
    require_admin(request.user)
    person = get_object_or_404(User, pk=pk)
    form = UserEditForm(request.POST or None, initial={
        "first_name": person.first_name, "last_name": person.last_name, "email": person.email,
        "role": person.role, "department": person.department_id, "is_active": person.is_active,
    })
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.user_update(
                actor=request.user, user=person, role=d["role"], department_id=d["department"],
                is_active=d["is_active"], first_name=d["first_name"], last_name=d["last_name"], email=d["email"],
            )
        except FieldError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("people:index")
    return render(request, "people/form.html", {"form": form, "title": person.display_name, "person": person},
                  status=400 if form.errors else 200)


@require_POST
def language_set(request: HttpRequest) -> HttpResponse:
    """Switches the UI language: kept on the user (all their devices) and in a cookie (the login page)."""
    language = request.POST.get("language", "")
    next_url = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        next_url = "/"
    response = HttpResponseRedirect(next_url)
    if language not in dict(settings.LANGUAGES):
        return response
    if request.user.is_authenticated:
        services.user_set_language(user=request.user, language=language)
    response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language, max_age=365 * 24 * 3600, samesite="Lax")
    return response


@login_required
@require_POST
def presence_set(request: HttpRequest) -> HttpResponse:
    """"At work" / "Away" in the top bar: whether new leads are routed to this person."""
    services.user_set_at_work(user=request.user, at_work=request.POST.get("at_work") == "1")
    next_url = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        next_url = "/"
    return HttpResponseRedirect(next_url)
