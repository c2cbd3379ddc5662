"""Outbox admin pages (administrators only): webhook endpoints, message templates, SMS providers, problems."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from okno.core.access import require_admin
from okno.core.errors import FieldError
from okno.core.paging import ids_of
from okno.core.reasons import reason_text
from okno.core.redirects import safe_next
from okno.outbox import services
from okno.outbox.forms import EndpointForm, SmsProviderForm, TemplateForm
from okno.outbox.models import MessageTemplate, OutboxMessage, SmsProvider, WebhookEndpoint
from okno.outbox.selectors import PROBLEM_STATUSES, endpoint_deliveries, outbox_problems
from okno.outbox.templating import SAMPLE_CONTEXT, deal_context, template_render

PAGE_SIZE = 50


def _errors_into(form, exc: FieldError) -> None:
    for key, reason in exc.by_field.items():
        name = key.split("[")[0]
        form.add_error(name if name in form.fields else None, reason_text(reason))


@login_required
def endpoint_list(request: HttpRequest) -> HttpResponse:
    require_admin(request.user)
    endpoints = WebhookEndpoint.objects.annotate(n_messages=Count("messages")).order_by("pk")
    return render(request, "outbox/endpoints.html", {"endpoints": endpoints})


@login_required
def endpoint_new(request: HttpRequest) -> HttpResponse:
    require_admin(request.user)
    form = EndpointForm(request.POST or None, initial={"events": ["deal.created"]})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            endpoint = services.webhook_endpoint_create(
                actor=request.user, url=data["url"], events=data["events"], description=data["description"],
                allow_private_network=data["allow_private_network"])
        except FieldError as exc:
            _errors_into(form, exc)
        else:
            messages.success(request, _("Endpoint created. Its signing secret is shown below."))
            return redirect("outbox:endpoint", pk=endpoint.pk)
    return render(request, "outbox/endpoint_form.html", {"form": form})


@login_required
def endpoint_page(request: HttpRequest, pk: int) -> HttpResponse:
    require_admin(request.user)
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    page = Paginator(endpoint_deliveries(endpoint=endpoint), PAGE_SIZE).get_page(request.GET.get("page"))
    waiting = endpoint.messages.filter(status=OutboxMessage.Status.PENDING).count()
    return render(request, "outbox/endpoint.html", {"endpoint": endpoint, "page": page, "waiting": waiting})


@login_required
@require_POST
def endpoint_action(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    if request.POST.get("action") == "delete":
        services.webhook_endpoint_delete(actor=request.user, endpoint=endpoint)
        messages.success(request, _("Endpoint deleted."))
        return redirect("outbox:endpoints")
    if request.POST.get("action") == "test":
        services.webhook_endpoint_test(actor=request.user, endpoint=endpoint)
        messages.success(request, _("A test event is queued; its delivery appears in the log below."))
        return redirect("outbox:endpoint", pk=pk)
    services.webhook_endpoint_enable(actor=request.user, endpoint=endpoint)
    messages.success(request, _("Endpoint enabled again."))
    return redirect("outbox:endpoint", pk=pk)


@login_required
def template_list(request: HttpRequest) -> HttpResponse:
    require_admin(request.user)
    return render(request, "outbox/templates.html", {"templates": MessageTemplate.objects.order_by("name", "pk")})


@login_required
def template_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    require_admin(request.user)
    template = get_object_or_404(MessageTemplate, pk=pk) if pk else MessageTemplate()
    form = TemplateForm(request.POST or None, instance=template)
    if request.method == "POST" and request.POST.get("action") == "delete" and template.pk:
        services.message_template_delete(actor=request.user, template=template)
        messages.success(request, _("Template deleted."))
        return redirect("outbox:templates")
    if request.method == "POST" and form.is_valid():
        try:
            services.message_template_save(actor=request.user, template=form.instance)
        except FieldError as exc:
            _errors_into(form, exc)
        else:
            messages.success(request, _("Template %(name)s saved.") % {"name": form.instance.name})
            return redirect("outbox:templates")
    return render(request, "outbox/template_form.html", {"form": form, "template": template})


@login_required
@require_POST
def template_preview(request: HttpRequest) -> HttpResponse:
    """htmx: the form's subject and text over a deal the user may see, or sample values (or the error)."""
    require_admin(request.user)
    data = {"channel": request.POST.get("channel", "email"), "subject": request.POST.get("subject", ""),
            "body": request.POST.get("body", "")}
    deal_id = request.POST.get("preview_deal_id", "").strip().lstrip("#")
    try:
        context = deal_context(user=request.user, deal_id=int(deal_id)) if deal_id.isdigit() else SAMPLE_CONTEXT
        subject, body = template_render(template=data, context=context)
        error = None
    except FieldError as exc:
        subject = body = ""
        error = "; ".join(f"{k}: {reason_text(v)}" for k, v in exc.by_field.items())
    return render(request, "outbox/_preview.html", {"subject": subject, "body": body, "error": error,
                                                    "channel": data["channel"]})


@login_required
def sms_providers(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """The SMS providers and the form for one (new when no pk)."""
    require_admin(request.user)
    provider = get_object_or_404(SmsProvider, pk=pk) if pk else SmsProvider()
    form = SmsProviderForm(request.POST or None, instance=provider)
    if request.method == "POST" and form.is_valid():
        try:
            services.sms_provider_save(actor=request.user, provider=form.instance)
        except FieldError as exc:
            _errors_into(form, exc)
        else:
            messages.success(request, _("SMS provider %(name)s saved.") % {"name": form.instance.name})
            return redirect("outbox:sms_providers")
    return render(request, "outbox/sms_providers.html", {
        "form": form, "provider": provider, "providers": SmsProvider.objects.all()})


@login_required
def problems_page(request: HttpRequest) -> HttpResponse:
    """Messages that gave up after every retry, and those that failed for good (an endpoint gone)."""
    require_admin(request.user)
    status = request.GET.get("status", "")
    page = Paginator(outbox_problems(status=status), PAGE_SIZE).get_page(request.GET.get("page"))
    counts = dict(OutboxMessage.objects.filter(status__in=PROBLEM_STATUSES).order_by()
                  .values_list("status").annotate(n=Count("pk")))
    tabs = [(s, OutboxMessage.Status(s).label, counts.get(s, 0)) for s in PROBLEM_STATUSES]
    return render(request, "outbox/problems.html", {"page": page, "status": status, "tabs": tabs})


@login_required
@require_POST
def problems_retry(request: HttpRequest) -> HttpResponse:
    """"Send again" for one message, the ticked ones, or every one that gave up."""
    require_admin(request.user)
    qs = OutboxMessage.objects.filter(status__in=PROBLEM_STATUSES)
    if request.POST.get("all_gave_up"):
        qs = qs.filter(status=OutboxMessage.Status.GAVE_UP)
    elif request.POST.get("only", "").isdigit():
        qs = qs.filter(pk=int(request.POST["only"]))
    else:
        qs = qs.filter(pk__in=ids_of(request.POST.getlist("message")))
    retried = [services.outbox_retry(actor=request.user, message=m) for m in qs]
    messages.success(request, _("%(count)d message(s) queued to be sent again.") % {"count": len(retried)})
    return redirect(safe_next(request, "outbox:problems", prefix="/outbox/"))
