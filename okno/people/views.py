"""People admin pages (administrators only), the language switch, API tokens and locked logins."""

import datetime
import math

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from okno.core.access import require_admin
from okno.core.errors import FieldError
from okno.core.reasons import reason_text
from okno.people import services
from okno.people.models import ApiToken, Department, User
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


# --- Login throttling (django-axes) -----------------------------------------------------------

def login_locked_out(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """axes' lockout answer (settings AXES_LOCKOUT_CALLABLE): the login page again, saying why
    and for how long, with 429 for programs. A failure during the lock starts the cool-off anew,
    so the wait shown is the whole cool-off."""
    from axes.helpers import get_cool_off

    cool_off = get_cool_off(request)
    if cool_off:
        minutes = max(1, math.ceil(cool_off.total_seconds() / 60))
        reason = ngettext(
            "Too many failed login attempts. Try again in %(minutes)d minute or ask an administrator to unlock.",
            "Too many failed login attempts. Try again in %(minutes)d minutes or ask an administrator to unlock.",
            minutes) % {"minutes": minutes}
    else:
        reason = _("Too many failed login attempts. Ask an administrator to unlock.")
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    form = AuthenticationForm(request, initial={"username": username})
    next_url = request.POST.get("next") or request.GET.get("next", "")
    return render(request, "login.html", {"form": form, "locked_out": reason, "next": next_url}, status=429)


@login_required
def login_lockouts(request: HttpRequest) -> HttpResponse:
    """Accounts and addresses with failed logins; an administrator unlocks them."""
    require_admin(request.user)
    if request.method == "POST":
        username = request.POST.get("username", "").strip()
        ip_address = request.POST.get("ip_address", "").strip()
        if username or ip_address:
            services.login_unlock(actor=request.user, username=username, ip_address=ip_address)
            messages.success(request, _("Unlocked: %(what)s.") % {"what": username or ip_address})
        return redirect("people:lockouts")
    lockouts = services.login_lockouts()
    return render(request, "people/lockouts.html", {
        "accounts": lockouts["username"], "addresses": lockouts["ip_address"],
        "limit": settings.AXES_FAILURE_LIMIT,
    })


# --- API tokens -------------------------------------------------------------------------------

class TokenForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=services.TOKEN_NAME_MAX,
                           help_text=gettext_lazy("What uses it, e.g. “website form” or “1C export”."))
    expires_on = forms.DateField(
        label=gettext_lazy("Valid through"), required=False, widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy("Empty: valid until revoked."))


def _token_owner(request: HttpRequest, pk: int | None) -> User:
    if pk is None or pk == request.user.pk:
        return request.user
    require_admin(request.user)
    return get_object_or_404(User, pk=pk)


@login_required
def api_tokens(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """A person's API tokens (their own; an administrator's anyone's): the list, a new one, revoke.

    A new token's key is shown on this answer only: only its hash is stored."""
    owner = _token_owner(request, pk)
    form = TokenForm(request.POST or None)
    new_key = None
    status = 200
    if request.method == "POST" and form.is_valid():
        expires_at = None
        if form.cleaned_data["expires_on"]:
            day_after = form.cleaned_data["expires_on"] + datetime.timedelta(days=1)
            expires_at = timezone.make_aware(datetime.datetime.combine(day_after, datetime.time()))
        try:
            token, new_key = services.token_issue(actor=request.user, user=owner, name=form.cleaned_data["name"],
                                                  expires_at=expires_at)
        except FieldError as exc:
            for name, reason in exc.by_field.items():
                name = {"expires_at": "expires_on"}.get(name, name)
                form.add_error(name if name in form.fields else None, reason_text(reason))
        else:
            form = TokenForm()
    if form.errors:
        status = 400
    tokens = ApiToken.objects.filter(user=owner).select_related("revoked_by")
    return render(request, "people/tokens.html", {
        "owner": owner, "tokens": tokens, "form": form, "new_key": new_key,
        "own": owner.pk == request.user.pk,
    }, status=status)


@login_required
@require_POST
def api_token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    token = get_object_or_404(services.tokens_visible_to(request.user), pk=token_id)
    services.token_revoke(actor=request.user, token=token)
    messages.success(request, _("Token “%(name)s” revoked: it no longer works.") % {"name": token.name or token.prefix})
    if token.user_id == request.user.pk:
        return redirect("people:tokens")
    return redirect("people:user_tokens", pk=token.user_id)
