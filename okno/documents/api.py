"""The documents REST API (mounted at /api/v1 by okno/api.py): templates, a deal's documents,
their files, sending, and the suppliers directory.

Files are served at `docx_url` / `pdf_url` to the API token (Authorization: Bearer) and to a
signed-in browser alike, to whoever may see the document's deal (another department's: 404).
"""

from datetime import datetime

from django.http import HttpRequest
from django.urls import reverse
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from okno.core.access import require_admin
from okno.core.errors import ErrorOut, FieldError
from okno.deals.models import Supplier
from okno.documents import selectors
from okno.documents.files import document_file_response
from okno.documents.models import Document, DocumentTemplate
from okno.documents.services import (
    Upload,
    default_recipient,
    document_generate,
    document_preview,
    document_send,
    document_template_upload,
)
from okno.documents.suppliers import (
    SupplierData,
    deal_line_supplier_set,
    supplier_create,
    supplier_update,
    suppliers_list,
)

router = Router(tags=["documents"])

MAX_SUPPLIERS_PAGE = 500


class DocumentTemplateOut(Schema):
    id: int
    name: str
    kind: str
    placeholders: list[str]
    is_active: bool
    created_at: datetime


class DocumentCreateIn(Schema):
    template_id: int
    supplier_id: int | None = None


class DocumentOut(Schema):
    id: int
    deal_id: int
    template_id: int | None
    kind: str
    number: int
    year: int
    title: str
    supplier_id: int | None
    pdf_status: str
    docx_url: str
    pdf_url: str
    sent_at: datetime | None
    sent_to: str
    created_at: datetime


class DocumentSendIn(Schema):
    to: str | None = None
    message_template_id: int | None = None


class SupplierIn(Schema):
    name: str = ""
    emails: list[str] = []
    phones: list[str] = []
    terms: str = ""
    custom: dict[str, str | int | float] = {}
    is_active: bool = True


class SupplierOut(Schema):
    id: int
    name: str
    emails: list[str]
    phones: list[str]
    terms: str
    custom: dict
    is_active: bool


def _template_out(t: DocumentTemplate) -> dict:
    return {"id": t.pk, "name": t.name, "kind": t.kind, "placeholders": t.placeholders, "is_active": t.is_active,
            "created_at": t.created_at}


def document_out(request: HttpRequest, d: Document) -> dict:
    def url(fmt: str) -> str:
        return request.build_absolute_uri(reverse(f"api:document_{fmt}", args=[d.pk]))

    return {"id": d.pk, "deal_id": d.deal_id, "template_id": d.template_id, "kind": d.kind, "number": d.number,
            "year": d.year, "title": d.title, "supplier_id": d.supplier_id, "pdf_status": d.pdf_status,
            "docx_url": url("docx"), "pdf_url": url("pdf"), "sent_at": d.sent_at, "sent_to": d.sent_to,
            "created_at": d.created_at}


def _supplier_out(s: Supplier) -> dict:
    return {"id": s.pk, "name": s.name, "emails": s.emails, "phones": [p["e164"] for p in s.phones],
            "terms": s.terms, "custom": s.custom, "is_active": s.is_active}


# ---- templates ---------------------------------------------------------------------------

@router.post("/document-templates", response={201: DocumentTemplateOut, 400: ErrorOut, 403: ErrorOut})
def template_create(request: HttpRequest, file: File[UploadedFile] = None, name: Form[str] = "",
                    kind: Form[str] = "", is_active: Form[bool] = True):
    """Uploads a DOCX template (multipart: `file`, `name`, `kind`). A Jinja syntax error or a
    placeholder outside the allowed names is a 400 naming it (`errors[].field` = "file")."""
    require_admin(request.auth)
    upload = Upload(name=file.name or "", data=file.read()) if file is not None else None
    template = document_template_upload(name=name, kind=kind, upload=upload, user=request.auth,
                                        is_active=is_active)
    return Status(201, _template_out(template))


@router.get("/document-templates", response=list[DocumentTemplateOut])
def template_list(request: HttpRequest, include_inactive: bool = False):
    qs = DocumentTemplate.objects.order_by("kind", "name", "id") if include_inactive else selectors.templates_active()
    return [_template_out(t) for t in qs]


@router.get("/document-templates/{int:template_id}/preview", response={200: None, 404: ErrorOut})
def template_preview(request: HttpRequest, template_id: int, deal_id: int):
    """The DOCX the template makes for a deal the caller may see (numbered 0, nothing stored)."""
    from django.http import HttpResponse

    from okno.documents.services import DOCX_MIME

    template = selectors.template_get(pk=template_id)
    deal = selectors.deal_for_documents(user=request.auth, pk=deal_id)
    response = HttpResponse(document_preview(deal=deal, template=template), content_type=DOCX_MIME)
    response["Content-Disposition"] = f'attachment; filename="preview-{template.kind}-{deal.pk}.docx"'
    return response


# ---- a deal's documents --------------------------------------------------------------------

@router.post("/deals/{int:deal_id}/documents", response={201: DocumentOut, 400: ErrorOut, 404: ErrorOut})
def deal_document_create(request: HttpRequest, deal_id: int, payload: DocumentCreateIn):
    """Generates a numbered document (DOCX and PDF) of the deal from a template."""
    deal = selectors.deal_for_documents(user=request.auth, pk=deal_id)
    template = DocumentTemplate.objects.filter(pk=payload.template_id).first()
    if template is None:
        raise FieldError({"template_id": "no such document template"})
    supplier = None
    if payload.supplier_id is not None:
        supplier = Supplier.objects.filter(pk=payload.supplier_id).first()
        if supplier is None:
            raise FieldError({"supplier_id": "no such supplier"})
    document = document_generate(deal=deal, template=template, user=request.auth, supplier=supplier)
    return Status(201, document_out(request, document))


@router.get("/deals/{int:deal_id}/documents", response=list[DocumentOut])
def deal_document_list(request: HttpRequest, deal_id: int):
    deal = selectors.deal_for_documents(user=request.auth, pk=deal_id)
    return [document_out(request, d) for d in selectors.documents_of_deal(deal=deal)[:200]]


@router.get("/documents/{int:document_id}", response=DocumentOut)
def document_detail(request: HttpRequest, document_id: int):
    return document_out(request, selectors.document_get(user=request.auth, pk=document_id))


@router.get("/documents/{int:document_id}/docx", url_name="document_docx", response={200: None, 404: ErrorOut})
def document_docx(request: HttpRequest, document_id: int):
    """The document's DOCX."""
    return document_file_response(selectors.document_get(user=request.auth, pk=document_id), "docx")


@router.get("/documents/{int:document_id}/pdf", url_name="document_pdf",
            response={200: None, 404: ErrorOut, 409: ErrorOut})
def document_pdf(request: HttpRequest, document_id: int):
    """The document's PDF (one still pending is made now; 409 naming the reason when it cannot be)."""
    return document_file_response(selectors.document_get(user=request.auth, pk=document_id), "pdf")


@router.post("/documents/{int:document_id}/send", response={202: DocumentOut, 400: ErrorOut, 404: ErrorOut})
def document_send_api(request: HttpRequest, document_id: int, payload: DocumentSendIn):
    """E-mails the document (PDF and DOCX attached) to `to`, by default the customer's (or a
    supplier order's supplier's) first address."""
    from okno.outbox.models import MessageTemplate

    document = selectors.document_get(user=request.auth, pk=document_id)
    to = payload.to or default_recipient(document)
    message_template = None
    if payload.message_template_id is not None:
        message_template = MessageTemplate.objects.filter(pk=payload.message_template_id,
                                                          channel=MessageTemplate.Channel.EMAIL).first()
        if message_template is None:
            raise FieldError({"message_template_id": "no such e-mail template"})
    document = document_send(document=document, to=to, user=request.auth, message_template=message_template)
    return Status(202, document_out(request, document))


# ---- suppliers ----------------------------------------------------------------------------------

def _supplier_data(payload: SupplierIn) -> SupplierData:
    return SupplierData(name=payload.name, emails=payload.emails, phones=payload.phones, terms=payload.terms,
                        custom=payload.custom, is_active=payload.is_active)


@router.get("/suppliers", response=list[SupplierOut])
def supplier_list(request: HttpRequest, q: str = "", include_inactive: bool = False):
    return [_supplier_out(s) for s in suppliers_list(q=q, include_inactive=include_inactive)[:MAX_SUPPLIERS_PAGE]]


@router.post("/suppliers", response={201: SupplierOut, 400: ErrorOut, 403: ErrorOut})
def supplier_create_api(request: HttpRequest, payload: SupplierIn):
    return Status(201, _supplier_out(supplier_create(data=_supplier_data(payload), actor=request.auth)))


@router.get("/suppliers/{int:supplier_id}", response={200: SupplierOut, 404: ErrorOut})
def supplier_detail(request: HttpRequest, supplier_id: int):
    from django.shortcuts import get_object_or_404

    return _supplier_out(get_object_or_404(Supplier, pk=supplier_id))


@router.put("/suppliers/{int:supplier_id}", response={200: SupplierOut, 400: ErrorOut, 403: ErrorOut,
                                                     404: ErrorOut})
def supplier_update_api(request: HttpRequest, supplier_id: int, payload: SupplierIn):
    from django.shortcuts import get_object_or_404

    supplier = get_object_or_404(Supplier, pk=supplier_id)
    return _supplier_out(supplier_update(supplier=supplier, data=_supplier_data(payload), actor=request.auth))


class LineSupplierIn(Schema):
    supplier_id: int | None = None


class LineSupplierOut(Schema):
    id: int
    deal_id: int
    supplier_id: int | None


@router.put("/deals/{int:deal_id}/lines/{int:line_id}/supplier",
            response={200: LineSupplierOut, 400: ErrorOut, 404: ErrorOut})
def deal_line_supplier(request: HttpRequest, deal_id: int, line_id: int, payload: LineSupplierIn):
    """Names the supplier of one line of a deal the caller sees (`supplier_id: null` clears it)."""
    from django.shortcuts import get_object_or_404

    deal = selectors.deal_for_documents(user=request.auth, pk=deal_id)
    line = get_object_or_404(deal.lines.all(), pk=line_id)
    supplier = None
    if payload.supplier_id is not None:
        supplier = Supplier.objects.filter(pk=payload.supplier_id).first()
        if supplier is None:
            raise FieldError({"supplier_id": "no such supplier"})
    line = deal_line_supplier_set(line=line, supplier=supplier, actor=request.auth)
    return {"id": line.pk, "deal_id": line.deal_id, "supplier_id": line.supplier_id}
