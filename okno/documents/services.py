"""Documents: upload a template, generate a deal's document, make its PDF, send it by e-mail.

`document_generate` numbers the document by its kind's yearly sequence and stores its DOCX in
one transaction (a rollback leaves no gap in the numbers and no file: okno.documents.storage),
records it on the customer's timeline, then makes the PDF inline through this process's reused LibreOffice, outside the
transaction. When that fails or overruns its timeout the document keeps `pdf_status=pending`
and the worker's `documents_pdf` drain makes it (docs/documents.md has the measurements).
"""

import hashlib
import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from okno.core.errors import FieldError
from okno.deals.models import Deal, Supplier
from okno.documents import office
from okno.documents.context import document_context
from okno.documents.models import (
    Document,
    DocumentKind,
    DocumentSequence,
    DocumentSettings,
    DocumentTemplate,
)
from okno.documents.storage import file_save_for_transaction
from okno.documents.templating import template_check, template_render
from okno.people.models import User

log = logging.getLogger(__name__)

TIMELINE_KIND = "document"
# A PDF made inline waits at most this long in a request; longer, the worker makes it.
PDF_INLINE_TIMEOUT_SECONDS = float(getattr(settings, "OKNO_PDF_INLINE_TIMEOUT_SECONDS", 20))
PDF_MAX_ATTEMPTS = 5
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

# A document's own title, printed into it and kept on its row: these are Russian business papers
# (счёт, акт, договор) whatever language the manager's screen speaks, so the title is data, not UI;
# pages name the kind through DocumentKind's translated label.
KIND_TITLES = {
    DocumentKind.INVOICE: "Счёт",
    DocumentKind.SUPPLIER_ORDER: "Заказ поставщику",
    DocumentKind.CONTRACT: "Договор",
    DocumentKind.OFFER: "Коммерческое предложение",
    DocumentKind.ACT: "Акт",
    DocumentKind.OTHER: "Документ",
}


@dataclass
class Upload:
    name: str
    data: bytes


def document_template_upload(*, name: str, kind: str, upload: Upload | None, user: User | None,
                             is_active: bool = True) -> DocumentTemplate:
    """Stores an administrator's DOCX once its placeholders are all known (FieldError otherwise)."""
    errors = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = "a template needs a name"
    elif len(name) > 200:
        errors["name"] = "at most 200 characters"
    if kind not in DocumentKind.values:
        errors["kind"] = "must be one of: " + ", ".join(DocumentKind.values)
    if upload is None or not upload.data:
        errors["file"] = "a DOCX file is required"
    elif not upload.name.lower().endswith(".docx"):
        errors["file"] = "the file must be a .docx"
    if errors:
        raise FieldError(errors)
    check = template_check(upload.data)
    template = DocumentTemplate(name=name, kind=kind, placeholders=check.placeholders, uploaded_by=user,
                                is_active=is_active)
    with transaction.atomic():
        file_save_for_transaction(template.file, "template.docx", upload.data)
        template.save()
    return template


def document_template_update(*, template: DocumentTemplate, name: str | None = None,
                             is_active: bool | None = None, upload: Upload | None = None) -> DocumentTemplate:
    """Renames, (de)activates or replaces the file of a template; documents made keep their files."""
    if name is not None:
        name = name.strip()
        if not name:
            raise FieldError({"name": "a template needs a name"})
        template.name = name[:200]
    if is_active is not None:
        template.is_active = is_active
    if upload is not None and upload.data:
        if not upload.name.lower().endswith(".docx"):
            raise FieldError({"file": "the file must be a .docx"})
        template.placeholders = template_check(upload.data).placeholders
    with transaction.atomic():
        if upload is not None and upload.data:
            file_save_for_transaction(template.file, "template.docx", upload.data)
        template.save()
    return template


def document_number_next(*, kind: str, year: int) -> int:
    """The next number of `kind` in `year`, atomically on both databases.

    The UPDATE ... SET last = last + 1 takes the row's lock (PostgreSQL) or runs under SQLite's
    IMMEDIATE write lock, so two documents never share a number; it is called inside the
    document's transaction, so a rolled-back document gives its number back."""
    with transaction.atomic():
        DocumentSequence.objects.bulk_create([DocumentSequence(kind=kind, year=year, last=0)],
                                             ignore_conflicts=True)
        DocumentSequence.objects.filter(kind=kind, year=year).update(last=F("last") + 1)
        return DocumentSequence.objects.filter(kind=kind, year=year).values_list("last", flat=True).get()


def our_company():
    row = DocumentSettings.objects.select_related("our_company").filter(pk=1).first()
    return row.our_company if row else None


def _template_bytes(template: DocumentTemplate) -> bytes:
    with template.file.open("rb") as f:
        return f.read()


def document_preview(*, deal: Deal, template: DocumentTemplate) -> bytes:
    """The DOCX this template makes for `deal`, numbered "0": nothing stored, no number taken."""
    context = document_context(deal=deal, our=our_company(), number=0, year=timezone.now().year,
                               title=KIND_TITLES.get(template.kind, ""), kind=template.kind)
    return template_render(_template_bytes(template), context)


def _generate(*, deal: Deal, template: DocumentTemplate, user: User | None, supplier: Supplier | None,
              origin_key: str | None) -> Document:
    if origin_key:
        known = Document.objects.filter(origin_key=origin_key).first()
        if known is not None:
            return known
    now = timezone.now()
    year = timezone.localtime(now).year
    data = _template_bytes(template)
    with transaction.atomic():
        number = document_number_next(kind=template.kind, year=year)
        title = f"{KIND_TITLES.get(template.kind, template.name)} № {number}"
        if supplier is not None:
            title += f" ({supplier.name})"
        context = document_context(deal=deal, supplier=supplier, our=our_company(), number=number, year=year,
                                   title=title, kind=template.kind, today=timezone.localdate(now))
        docx = template_render(data, context)
        document = Document(deal=deal, template=template, kind=template.kind, number=number, year=year,
                            title=title[:300], supplier=supplier, created_by=user, created_at=now,
                            origin_key=origin_key)
        file_save_for_transaction(document.docx, "document.docx", docx)
        document.save()
        if deal.contact_id:
            from okno.timeline.services import activity_record

            activity_record(contact=deal.contact, kind=TIMELINE_KIND, detail=document, author=user,
                            summary=_("Document “%(title)s” made for the deal “%(deal)s”") % {
                                "title": title, "deal": deal.title})
    return document


def document_generate(*, deal: Deal, template: DocumentTemplate, user: User | None,
                      supplier: Supplier | None = None, origin_key: str | None = None,
                      pdf_inline: bool = True) -> Document:
    """Makes a numbered document of `deal` from `template`: DOCX stored, PDF made (inline, else by
    the worker). A supplier order holds that supplier's lines only. An inactive template is refused."""
    if not template.is_active:
        raise FieldError({"template_id": "this template is switched off"})
    if template.kind == DocumentKind.SUPPLIER_ORDER and supplier is None:
        suppliers = {ln.supplier_id for ln in deal.lines.all() if ln.supplier_id}
        if len(suppliers) == 1:
            supplier = Supplier.objects.get(pk=suppliers.pop())
    document = _generate(deal=deal, template=template, user=user, supplier=supplier, origin_key=origin_key)
    if pdf_inline and document.pdf_status == Document.PdfStatus.PENDING:
        document_pdf_make(document=document, timeout=PDF_INLINE_TIMEOUT_SECONDS)
    return document


def document_pdf_make(*, document: Document, timeout: float = office.CONVERT_TIMEOUT_SECONDS) -> Document:
    """Converts the DOCX to PDF through the reused LibreOffice; a failure is kept on the row and
    retried by the drain with back-off, the last one marks it failed (the DOCX stays usable)."""
    with document.docx.open("rb") as f:
        docx = f.read()
    try:
        pdf = office.docx_to_pdf(docx, timeout=timeout)
    except office.OfficeError as exc:
        attempts = document.attempts + 1
        failed = attempts >= PDF_MAX_ATTEMPTS
        Document.objects.filter(pk=document.pk).update(
            pdf_error=str(exc)[:500], attempts=attempts, locked_until=None,
            run_after=timezone.now() + timedelta(seconds=30 * 2 ** attempts),
            pdf_status=Document.PdfStatus.FAILED if failed else Document.PdfStatus.PENDING)
        log.warning("PDF of document %s not made: %s", document.pk, exc)
        document.refresh_from_db()
        return document
    with transaction.atomic():
        file_save_for_transaction(document.pdf, "document.pdf", pdf)
        Document.objects.filter(pk=document.pk).update(pdf=document.pdf.name, pdf_status=Document.PdfStatus.DONE,
                                                       pdf_error="", locked_until=None)
    document.pdf_status, document.pdf_error = Document.PdfStatus.DONE, ""
    return document


def _attachments(document: Document) -> list[dict]:
    base = f"{document.kind}-{document.year}-{document.number}"
    files = [{"path": document.docx.name, "filename": f"{base}.docx", "mimetype": DOCX_MIME}]
    if document.pdf and document.pdf_status == Document.PdfStatus.DONE:
        files.insert(0, {"path": document.pdf.name, "filename": f"{base}.pdf", "mimetype": "application/pdf"})
    return files


def document_send(*, document: Document, to: str, user: User | None, message_template=None,
                  key: str | None = None) -> Document:
    """Queues an e-mail to `to` with the document's PDF (when made) and DOCX attached, its text
    from an outbox e-mail template when given. Once per `key` (default: once per document and
    address, so a double click sends once)."""
    from okno.outbox.services import outbox_email

    to = (to or "").strip()
    if not to:
        raise FieldError({"to": "an e-mail address is required"})
    deal = document.deal
    if message_template is not None:
        from okno.outbox.templating import template_context
        from okno.outbox.templating import template_render as text_render

        context = template_context(deal=deal, contact=deal.contact, company=deal.company)
        subject, body = text_render(template=message_template, context=context)
    else:
        subject = document.title
        body = _("Good day!\n\nPlease find attached: %(title)s.\n") % {"title": document.title}
    contact_id = deal.contact_id if document.supplier_id is None else None
    digest = hashlib.sha1(to.lower().encode()).hexdigest()[:12]
    with transaction.atomic():
        outbox_email(to=to, subject=subject, body=body, key=key or f"document-{document.pk}-{digest}",
                     contact_id=contact_id, deal_id=deal.pk, attachments=_attachments(document))
        now = timezone.now()
        Document.objects.filter(pk=document.pk).update(sent_at=now, sent_to=to[:300])
        document.sent_at, document.sent_to = now, to[:300]
    return document


def default_recipient(document: Document) -> str:
    """Where "send" goes without an address: a supplier order to its supplier's first e-mail,
    any other document to the customer's first e-mail ("" when there is none)."""
    if document.supplier_id:
        return (document.supplier.emails or [""])[0]
    deal = document.deal
    row = deal.contact.emails.order_by("id").first() if deal.contact_id else None
    return row.email if row else ""


def deal_documents_generate(*, deal: Deal, template: DocumentTemplate, user: User | None, send: bool,
                            to: str = "", message_template=None, key: str | None = None) -> list[Document]:
    """What one "Send" makes for a deal, from the page, a stage rule or a robot: a supplier order
    per supplier named by the deal's lines, each e-mailed to its supplier's first address (an
    order whose lines name no supplier: one order of every line); any other kind one document,
    e-mailed to the customer's first address. `to`, when given, receives every one instead.

    A document with nowhere to go is made and left unsent (`sent_at` empty), for the caller to
    say so. With `key`, a repeat finds the documents (origin key) and e-mails (outbox key) the
    first run made; without it every call makes new, numbered documents."""
    targets: list[Supplier | None] = [None]
    if template.kind == DocumentKind.SUPPLIER_ORDER:
        supplier_ids = sorted({s for s in deal.lines.values_list("supplier_id", flat=True) if s})
        targets = list(Supplier.objects.filter(pk__in=supplier_ids).order_by("id")) or [None]
    documents = []
    for supplier in targets:
        one = f"{key}-s{supplier.pk if supplier else 0}" if key else None
        document = document_generate(deal=deal, template=template, user=user, supplier=supplier,
                                     origin_key=one[:100] if one else None)
        address = (to or "").strip() or (default_recipient(document) if send else "")
        if send and address:
            document_send(document=document, to=address, user=user, message_template=message_template,
                          key=f"document-{one}"[:150] if one else None)
        documents.append(document)
    return documents
