from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from okno.core.access import require_admin
from okno.core.errors import ApiError, FieldError
from okno.inbox.models import Channel
from okno.people.models import User
from okno.telephony.click_to_call import call_request
from okno.telephony.services import extension_assign, unmatched_extensions


class AssignForm(forms.Form):
    channel = forms.IntegerField(widget=forms.HiddenInput)
    code = forms.CharField(max_length=64, widget=forms.HiddenInput)
    user = forms.ModelChoiceField(label=gettext_lazy("Employee"), queryset=User.objects.filter(is_active=True))


@login_required
def unmatched(request: HttpRequest) -> HttpResponse:
    """Calls through extensions nobody has: an administrator says who is behind each one."""
    require_admin(request.user)
    form = AssignForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            channel = get_object_or_404(Channel, pk=form.cleaned_data["channel"])
            n = extension_assign(channel=channel, code=form.cleaned_data["code"], user=form.cleaned_data["user"])
            messages.success(request, _("Extension %(code)s is %(user)s now; %(n)s calls updated.") % {
                "code": form.cleaned_data["code"], "user": form.cleaned_data["user"].display_name, "n": n})
            return redirect("telephony:unmatched")
        messages.error(request, _("Choose an employee."))
    rows = list(unmatched_extensions())
    users = User.objects.filter(is_active=True).order_by("last_name", "first_name", "username")
    return render(request, "telephony/unmatched.html", {"rows": rows, "users": users})


@login_required
@require_POST
def call(request: HttpRequest) -> HttpResponse:
    """The card's call button: queues click-to-call and says so, or why not, in place."""
    contact_id = request.POST.get("contact_id") or None
    error = ""
    try:
        call_request(actor=request.user, contact_id=int(contact_id) if contact_id and contact_id.isdigit() else None,
                     number=request.POST.get("number", ""))
    except FieldError as exc:
        error = "; ".join(exc.by_field.values())
    except ApiError as exc:
        error = exc.detail
    return render(request, "telephony/_call_status.html", {"error": error})
