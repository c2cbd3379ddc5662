"""Documents pages: templates (upload, preview against a deal, stage rules, our company) for
administrators; the deal page's documents panel with its one-click "Send"; file downloads."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from okno.core.access import require_admin
from okno.core.errors import ApiError, FieldError
from okno.core.reasons import reason_text
from okno.documents import office, selectors
from okno.documents.files import document_file_response
from okno.documents.forms import OurCompanyForm, RuleForm, TemplateUploadForm
from okno.documents.models import DocumentRule, DocumentTemplate
from okno.documents.rules import document_rule_create, document_rule_delete, our_company_set
from okno.documents.services import (
    DOCX_MIME,
    Upload,
    deal_documents_generate,
    document_preview,
    document_template_update,
    document_template_upload,
    our_company,
)


def _errors_text(exc: FieldError) -> str:
    return "; ".join(f"{e['field']}: {reason_text(e['reason'])}" for e in exc.errors)


@login_required
def templates(request: HttpRequest) -> HttpResponse:
    require_admin(request.user)
    form = TemplateUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        f = form.cleaned_data["file"]
        try:
            document_template_upload(name=form.cleaned_data["name"], kind=form.cleaned_data["kind"],
                                     upload=Upload(name=f.name, data=f.read()), user=request.user)
        except FieldError as exc:
            for field, reason in exc.by_field.items():
                form.add_error(field if field in form.fields else None, reason_text(reason))
        else:
            messages.success(request, _("Template uploaded."))
            return redirect("documents:templates")
    return render(request, "documents/templates.html", {
        "form": form, "templates": DocumentTemplate.objects.order_by("kind", "name", "id"),
        "rules": DocumentRule.objects.select_related("stage", "stage__pipeline", "template"),
        "rule_form": RuleForm(), "our_form": OurCompanyForm(initial={"our_company": our_company()}),
        "office_ok": office.office_available()})


@login_required
@require_POST
def template_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    require_admin(request.user)
    template = get_object_or_404(DocumentTemplate, pk=pk)
    document_template_update(template=template, is_active=request.POST.get("active") == "1")
    return redirect("documents:templates")


@login_required
def template_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """The template filled with a real deal's data (numbered 0, nothing stored): DOCX or PDF."""
    require_admin(request.user)
    template = get_object_or_404(DocumentTemplate, pk=pk)
    raw = request.GET.get("deal", "").strip().lstrip("#")
    if not raw.isdigit():
        messages.error(request, _("Give the number of a deal to preview the template with."))
        return redirect("documents:templates")
    deal = selectors.deal_for_documents(user=request.user, pk=int(raw))
    try:
        data = document_preview(deal=deal, template=template)
        if request.GET.get("format") == "pdf":
            data, mime, ext = office.docx_to_pdf(data), "application/pdf", "pdf"
        else:
            mime, ext = DOCX_MIME, "docx"
    except FieldError as exc:
        messages.error(request, _errors_text(exc))
        return redirect("documents:templates")
    except office.OfficeError as exc:
        messages.error(request, _("PDF not made: %(reason)s") % {"reason": exc})
        return redirect("documents:templates")
    response = HttpResponse(data, content_type=mime)
    response["Content-Disposition"] = f'attachment; filename="preview-{template.kind}-{deal.pk}.{ext}"'
    return response


@login_required
@require_POST
def rule_add(request: HttpRequest) -> HttpResponse:
    require_admin(request.user)
    form = RuleForm(request.POST)
    if form.is_valid():
        document_rule_create(stage=form.cleaned_data["stage"], template=form.cleaned_data["template"],
                             send=form.cleaned_data["send"], actor=request.user)
        messages.success(request, _("Rule saved."))
    else:
        messages.error(request, _("Choose a stage and a template."))
    return redirect("documents:templates")


@login_required
@require_POST
def rule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    require_admin(request.user)
    document_rule_delete(rule=get_object_or_404(DocumentRule, pk=pk), actor=request.user)
    return redirect("documents:templates")


@login_required
@require_POST
def our_company_save(request: HttpRequest) -> HttpResponse:
    require_admin(request.user)
    form = OurCompanyForm(request.POST)
    if form.is_valid():
        our_company_set(company=form.cleaned_data["our_company"], actor=request.user)
        messages.success(request, _("Saved."))
    return redirect("documents:templates")


@login_required
def download(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    document = selectors.document_get(user=request.user, pk=pk)
    try:
        return document_file_response(document, fmt)
    except ApiError as exc:
        reason = exc.errors[0]["reason"] if exc.errors else exc.detail
        return HttpResponse(_("The file is not available: %(reason)s") % {"reason": reason},
                            status=exc.status, content_type="text/plain; charset=utf-8")


def _panel(request: HttpRequest, deal, *, error: str = "", notice: str = "", status: int = 200) -> HttpResponse:
    customer = deal.contact.emails.order_by("id").first() if deal.contact_id else None
    from okno.documents.suppliers import suppliers_list

    return render(request, "documents/_deal_panel.html", {
        "deal": deal, "documents": list(selectors.documents_of_deal(deal=deal)[:50]),
        "lines": list(deal.lines.select_related("supplier").order_by("position", "id")[:100]),
        "suppliers": list(suppliers_list()[:300]),
        "templates": list(selectors.templates_active()), "customer_email": customer.email if customer else "",
        "error": error, "notice": notice}, status=status)


@login_required
def deal_panel(request: HttpRequest, deal_id: int) -> HttpResponse:
    """The deal page's documents panel (loaded by htmx from the page's one include line)."""
    return _panel(request, selectors.deal_for_documents(user=request.user, pk=deal_id))


@login_required
@require_POST
def deal_send(request: HttpRequest, deal_id: int) -> HttpResponse:
    """The manager's one click: make the document from the chosen template and e-mail it (a
    supplier order: one per supplier of the lines, each to its supplier)."""
    deal = selectors.deal_for_documents(user=request.user, pk=deal_id)
    raw = request.POST.get("template_id", "")
    template = selectors.templates_active().filter(pk=int(raw)).first() if raw.isdigit() else None
    if template is None:
        return _panel(request, deal, error=_("Choose a template."), status=400)
    to = request.POST.get("to", "").strip()
    send = request.POST.get("action", "send") == "send"
    if to:
        try:
            validate_email(to)
        except ValidationError:
            return _panel(request, deal, error=_("E-mail: not an e-mail address."), status=400)
    try:
        documents = deal_documents_generate(deal=deal, template=template, user=request.user, send=send, to=to)
    except FieldError as exc:
        return _panel(request, deal, error=_errors_text(exc), status=400)
    unsent = [d for d in documents if send and not d.sent_at]
    notices = [_("%(title)s sent to %(to)s.") % {"title": d.title, "to": d.sent_to} if send and d.sent_at
               else _("%(title)s made.") % {"title": d.title} for d in documents if d not in unsent]
    if unsent:
        error = " ".join(_("%(title)s made, not sent: %(reason)s") % {
            "title": d.title, "reason": _("there is no e-mail address to send it to")} for d in unsent)
        return _panel(request, deal, error=error, notice=" ".join(notices), status=400)
    return _panel(request, deal, notice=" ".join(notices))


@login_required
@require_POST
def deal_line_supplier(request: HttpRequest, deal_id: int, line_id: int) -> HttpResponse:
    """The panel's per-line supplier select (htmx): who the line's supplier order goes to."""
    from okno.deals.models import Supplier
    from okno.documents.suppliers import deal_line_supplier_set

    deal = selectors.deal_for_documents(user=request.user, pk=deal_id)
    line = get_object_or_404(deal.lines.all(), pk=line_id)
    raw = request.POST.get("supplier_id", "")
    supplier = Supplier.objects.filter(pk=int(raw)).first() if raw.isdigit() else None
    try:
        deal_line_supplier_set(line=line, supplier=supplier, actor=request.user)
    except FieldError as exc:
        return _panel(request, deal, error=_errors_text(exc), status=400)
    return _panel(request, deal, notice=_("Supplier of “%(line)s” saved.") % {"line": line.name})
