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
from okno.inbox.adapters.base import SendFailed
from okno.inbox.adapters.telegram import webhook_register
from okno.inbox.channel_checks import can_check, channel_check
from okno.inbox.channel_forms import SettingsForm, extra_settings, kind_label, spec_for
from okno.inbox.channels import channel_create, channel_rotate_secret, channel_update, channel_webhook_url
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
    # The escape hatch for what no field covers (an inline timetable, a Telphin extension map):
    # shown collapsed, and on an existing channel holding only those keys.
    settings = forms.CharField(
        label=gettext_lazy("Other settings (JSON)"), required=False, widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy('Only what has no field above, e.g. {"business_hours": {"mon": "09:00-18:00"}}; '
                               "a key given here wins over its field."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = kind_choices()
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


def kind_choices() -> list[tuple[str, str]]:
    """The registered kinds by their names in the reader's language."""
    return sorted(((k, kind_label(k)) for k in adapters.kinds()), key=lambda c: c[1].lower())


@login_required
def channel_list(request: HttpRequest) -> HttpResponse:
    require_admin(request.user)
    channels = list(Channel.objects.select_related("department", "fallback_user").order_by("name", "pk"))
    for c in channels:
        c.webhook_url = "" if spec_for(c.kind).no_webhook else channel_webhook_url(c)
        c.kind_label = kind_label(c.kind)
    return render(request, "inbox/channels.html", {"channels": channels})


def _add_errors(exc: FieldError, form: ChannelForm, settings_form: SettingsForm) -> None:
    """The service's reasons beside the fields they are about."""
    for key, reason in exc.by_field.items():
        name = FORM_FIELD.get(key, key.split(".")[0])
        setting = key.split(".")[1] if key.startswith("settings.") else ""
        if setting in settings_form.fields:
            settings_form.add_error(setting, reason_text(reason))
        elif name in form.fields:
            # "settings.business_hours.mon: ..." says which part of the settings is wrong.
            form.add_error(name, f"{key}: {reason_text(reason)}" if name == "settings" else reason_text(reason))
        else:
            form.add_error(None, f"{key}: {reason_text(reason)}")


def _settings_of(form: ChannelForm, settings_form: SettingsForm, base: dict) -> dict:
    return {**settings_form.settings_from(base), **form.cleaned_data["settings"],
            "route_subdepartments": form.cleaned_data["route_subdepartments"]}


@login_required
def channel_new(request: HttpRequest) -> HttpResponse:
    """One page: the kind (its choice swaps the settings part in, by htmx or the "Choose" button),
    then that kind's settings as fields."""
    require_admin(request.user)
    kind = request.POST.get("kind") or request.GET.get("kind") or "form"
    if kind not in adapters.kinds():
        kind = "form"
    spec = spec_for(kind)
    data = request.POST if request.method == "POST" else None
    form = ChannelForm(data, initial={"kind": kind, "name": "" if data else spec.label})
    settings_form = SettingsForm(spec, data)
    if data is not None and form.is_valid() & settings_form.is_valid():
        cleaned = form.cleaned_data
        try:
            channel = channel_create(actor=request.user, kind=kind, name=cleaned["name"],
                                     settings_=_settings_of(form, settings_form, {}),
                                     department_id=cleaned["department"], fallback_user_id=cleaned["fallback_user"])
        except FieldError as exc:
            _add_errors(exc, form, settings_form)
        else:
            messages.success(request, _("Channel %(name)s created.") % {"name": channel.name})
            return redirect("inbox:channel", pk=channel.pk)
    return render(request, "inbox/channel_form.html", {
        "form": form, "settings_form": settings_form, "spec": spec, "kind": kind, "kinds": kind_choices(),
        "show_json": bool(data and data.get("settings", "").strip()),
    })


@login_required
def channel_edit(request: HttpRequest, pk: int) -> HttpResponse:
    require_admin(request.user)
    channel = get_object_or_404(Channel, pk=pk)
    spec = spec_for(channel.kind)
    stored = dict(channel.settings or {})
    extras = extra_settings(spec, stored)
    data = request.POST if request.method == "POST" else None
    form = ChannelForm(data, initial={
        "kind": channel.kind, "name": channel.name, "department": channel.department_id,
        "fallback_user": channel.fallback_user_id, "route_subdepartments": stored.get("route_subdepartments", True),
        "settings": json.dumps(extras, ensure_ascii=False, indent=2) if extras else ""})
    form.fields["kind"].disabled = True
    settings_form = SettingsForm(spec, data, stored=stored)
    if data is not None and form.is_valid() & settings_form.is_valid():
        cleaned = form.cleaned_data
        # The box holds every key no field covers: one taken out of it is removed.
        base = {k: v for k, v in stored.items() if k not in extras}
        try:
            channel = channel_update(actor=request.user, channel=channel, name=cleaned["name"],
                                     settings_=_settings_of(form, settings_form, base),
                                     department_id=cleaned["department"], fallback_user_id=cleaned["fallback_user"])
        except FieldError as exc:
            _add_errors(exc, form, settings_form)
        else:
            messages.success(request, _("Channel %(name)s saved.") % {"name": channel.name})
            return redirect("inbox:channel", pk=channel.pk)
    return render(request, "inbox/channel_form.html", {
        "form": form, "settings_form": settings_form, "spec": spec, "kind": channel.kind, "channel": channel,
        "show_json": bool(extras) or bool(form.errors.get("settings")),
    })


def _form_snippet(channel: Channel, url: str) -> str:
    """The copy-paste HTML and JS for a site: the channel's URL and honeypot filled in."""
    return render_to_string("inbox/form_snippet.txt", {
        "url": url, "honeypot": channel.settings.get("honeypot", "website"), "form_id": f"okno-form-{channel.pk}",
    }).strip()


@login_required
def channel_page(request: HttpRequest, pk: int) -> HttpResponse:
    require_admin(request.user)
    channel = get_object_or_404(Channel.objects.select_related("department", "fallback_user"), pk=pk)
    spec = spec_for(channel.kind)
    url = channel_webhook_url(channel)
    events = list(channel.events.annotate(preview=Substr("body", 1, 200, output_field=BinaryField()))
                  .defer("body", "headers").order_by("-pk")[:20])
    for e in events:
        e.preview_text = bytes(e.preview or b"").decode("utf-8", "replace")
    extras = extra_settings(spec, channel.settings or {})
    return render(request, "inbox/channel.html", {
        "channel": channel, "spec": spec, "kind_label": kind_label(channel.kind),
        "webhook_url": "" if spec.no_webhook else url, "events": events,
        "snippet": _form_snippet(channel, url) if channel.kind == "form" else "",
        "settings_rows": SettingsForm(spec, stored=channel.settings or {}).summary(),
        "route_subdepartments": (channel.settings or {}).get("route_subdepartments", True),
        "extras_json": json.dumps(extras, ensure_ascii=False, indent=2) if extras else "",
        "can_check": can_check(channel.kind),
        "poll_error": (channel.settings or {}).get("poll_error", ""),
    })


@login_required
@require_POST
def channel_check_view(request: HttpRequest, pk: int) -> HttpResponse:
    """"Test connection": the answer in words, as a fragment for htmx or a message after a redirect."""
    require_admin(request.user)
    channel = get_object_or_404(Channel, pk=pk)
    ok, text = channel_check(channel)
    if request.headers.get("HX-Request"):
        return render(request, "inbox/_channel_check.html", {"ok": ok, "text": text})
    (messages.success if ok else messages.error)(request, text)
    return redirect("inbox:channel", pk=channel.pk)


@login_required
@require_POST
def channel_telegram_connect(request: HttpRequest, pk: int) -> HttpResponse:
    """setWebhook: Telegram is told the channel's URL and secret (what telegram_set_webhook does)."""
    require_admin(request.user)
    channel = get_object_or_404(Channel, pk=pk, kind="telegram")
    try:
        webhook_register(channel, url=channel_webhook_url(channel))
    except SendFailed as exc:
        messages.error(request, _("Telegram refused the webhook: %(error)s") % {"error": exc})
    else:
        messages.success(request, _("The bot is connected: Telegram posts its messages to Okno."))
    return redirect("inbox:channel", pk=channel.pk)


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
        e.kind_label = kind_label(e.channel.kind)
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
