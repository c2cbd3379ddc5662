"""Inbox admin pages (administrators only): channels, their secrets and snippets, inbox problems."""

import json

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import BinaryField, Count
from django.db.models.functions import Substr
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from okno.core.access import require_admin
from okno.core.errors import FieldError
from okno.core.paging import ids_of
from okno.core.reasons import reason_text
from okno.core.redirects import safe_next
from okno.inbox import adapters
from okno.inbox.channels import channel_create, channel_rotate_secret, channel_webhook_url
from okno.inbox.models import Channel, InboundEvent
from okno.inbox.services import inbound_event_retry
from okno.people.models import User
from okno.people.selectors import department_tree

PROBLEM_STATUSES = (InboundEvent.Status.FAILED, InboundEvent.Status.REJECTED, InboundEvent.Status.UNKNOWN)
# Enough of a raw body to recognise it; the whole body can be a megabyte.
PREVIEW_BYTES = 600
PAGE_SIZE = 50
FORM_FIELD = {"department_id": "department", "fallback_user_id": "fallback_user"}


class ChannelForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Kind"))
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    department = forms.TypedChoiceField(label=gettext_lazy("Department"), required=False, coerce=int,
                                        empty_value=None)
    fallback_user = forms.TypedChoiceField(label=gettext_lazy("Fallback queue"), required=False, coerce=int,
                                           empty_value=None)
    route_subdepartments = forms.BooleanField(
        label=gettext_lazy("Route to sub-departments too"), required=False, initial=True,
        help_text=gettext_lazy("New customers' leads go round robin to the managers and operators at work in the "
                               "department and the departments below it; off: only the department's own people. "
                               "Heads of department take leads only when none of them is at work."))
    settings = forms.CharField(
        label=gettext_lazy("Settings (JSON)"), required=False, widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy('For example {"allowed_origins": ["https://example.ru"], "redirect_url": "…"}'))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(k, k) for k in adapters.kinds()]
        self.fields["department"].choices = [("", "—")] + [(d.pk, f"{d.indent}{d.name}") for d in department_tree()]
        users = User.objects.filter(is_active=True).order_by("last_name", "username")
        self.fields["fallback_user"].choices = [("", "—")] + [(u.pk, u.display_name) for u in users]

    def clean_settings(self) -> dict:
        text = self.cleaned_data["settings"].strip()
        if not text:
            return {}
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(_("Not valid JSON: %(error)s") % {"error": exc}) from exc
        if not isinstance(value, dict):
            raise forms.ValidationError(_("Settings must be a JSON object: {…}"))
        return value


@login_required
def channel_list(request: HttpRequest) -> HttpResponse:
    require_admin(request.user)
    channels = list(Channel.objects.select_related("department", "fallback_user").order_by("name", "pk"))
    for c in channels:
        c.webhook_url = channel_webhook_url(c)
    return render(request, "inbox/channels.html", {"channels": channels})


@login_required
def channel_new(request: HttpRequest) -> HttpResponse:
    require_admin(request.user)
    form = ChannelForm(request.POST or None, initial={"kind": "form"})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            channel = channel_create(actor=request.user, kind=data["kind"], name=data["name"],
                                     settings_={**data["settings"],
                                                "route_subdepartments": data["route_subdepartments"]},
                                     department_id=data["department"],
                                     fallback_user_id=data["fallback_user"])
        except FieldError as exc:
            for key, reason in exc.by_field.items():
                name = FORM_FIELD.get(key, key.split(".")[0])
                # "settings.business_hours.mon: ..." says which part of the settings is wrong.
                form.add_error(name if name in form.fields else None, f"{key}: {reason_text(reason)}"
                               if name == "settings" else reason_text(reason))
        else:
            messages.success(request, _("Channel %(name)s created.") % {"name": channel.name})
            return redirect("inbox:channel", pk=channel.pk)
    return render(request, "inbox/channel_form.html", {"form": form})


def _form_snippet(channel: Channel, url: str) -> str:
    """The copy-paste HTML and JS for a site: the channel's URL and honeypot filled in."""
    return render_to_string("inbox/form_snippet.txt", {
        "url": url, "honeypot": channel.settings.get("honeypot", "website"), "form_id": f"okno-form-{channel.pk}",
    }).strip()


@login_required
def channel_page(request: HttpRequest, pk: int) -> HttpResponse:
    require_admin(request.user)
    channel = get_object_or_404(Channel.objects.select_related("department", "fallback_user"), pk=pk)
    url = channel_webhook_url(channel)
    events = list(channel.events.annotate(preview=Substr("body", 1, 200, output_field=BinaryField()))
                  .defer("body", "headers").order_by("-pk")[:20])
    for e in events:
        e.preview_text = bytes(e.preview or b"").decode("utf-8", "replace")
    return render(request, "inbox/channel.html", {
        "channel": channel, "webhook_url": url, "events": events,
        "snippet": _form_snippet(channel, url) if channel.kind == "form" else "",
        "settings_json": json.dumps(channel.settings, ensure_ascii=False, indent=2),
    })


@login_required
@require_POST
def channel_rotate(request: HttpRequest, pk: int) -> HttpResponse:
    require_admin(request.user)
    channel = channel_rotate_secret(actor=request.user, channel=get_object_or_404(Channel, pk=pk))
    messages.success(request, _("New URL and secret for %(name)s: the old URL no longer works; "
                                "update it at the provider.") % {"name": channel.name})
    return redirect("inbox:channel", pk=channel.pk)


@login_required
def problems_page(request: HttpRequest) -> HttpResponse:
    """Failed, rejected and unknown events with their error; ignored ones on request (rate-limited forms)."""
    require_admin(request.user)
    status = request.GET.get("status", "")
    statuses = [status] if status in InboundEvent.Status.values and status != InboundEvent.Status.DONE \
        else list(PROBLEM_STATUSES)
    qs = (InboundEvent.objects.filter(status__in=statuses).select_related("channel").defer("body")
          .annotate(preview=Substr("body", 1, PREVIEW_BYTES, output_field=BinaryField())).order_by("-pk"))
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    for e in page:
        raw = bytes(e.preview or b"")
        e.preview_text = raw.decode("utf-8", "replace") + ("…" if len(raw) >= PREVIEW_BYTES else "")
        lines = [line for line in e.error.splitlines() if line.strip()]
        e.error_line = lines[-1] if lines else ""  # a traceback's last line names the error
    counts = dict.fromkeys(InboundEvent.Status.values, 0)
    pending = InboundEvent.objects.exclude(status=InboundEvent.Status.DONE).order_by()
    for value, n in pending.values_list("status").annotate(n=Count("pk")):
        counts[value] = n
    tabs = [(s, InboundEvent.Status(s).label, counts[s]) for s in (*PROBLEM_STATUSES, InboundEvent.Status.IGNORED)]
    return render(request, "inbox/problems.html", {"page": page, "status": status, "tabs": tabs})


@login_required
@require_POST
def problems_retry(request: HttpRequest) -> HttpResponse:
    """"Process again" for one event, the ticked ones, or every failed one."""
    require_admin(request.user)
    qs = InboundEvent.objects.exclude(status=InboundEvent.Status.DONE).defer("body")
    if request.POST.get("all_failed"):
        qs = qs.filter(status=InboundEvent.Status.FAILED)
    elif request.POST.get("only", "").isdigit():  # one row's button, whatever else is ticked
        qs = qs.filter(pk=int(request.POST["only"]))
    else:
        ids = ids_of(request.POST.getlist("event"))
        qs = qs.filter(pk__in=ids)
    events = list(qs)
    for event in events:
        inbound_event_retry(event=event)
    messages.success(request, _("%(count)d event(s) queued to be processed again.") % {"count": len(events)})
    return redirect(safe_next(request, "inbox:problems", prefix="/inbox/"))
