"""Document templates (DOCX with Jinja placeholders), the documents made from them, their
per-kind yearly numbering, and the rules that make documents when a deal enters a stage.

A generated Document keeps its DOCX at once; its PDF is made by this process's reused
LibreOffice right away (okno/documents/office.py) and, when that fails or times out, by the
worker's `documents_pdf` drain, which claims pending rows with a lease (okno.core.leases), so a
PDF is never lost to a crash and never made twice at the same time.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class DocumentKind(models.TextChoices):
    INVOICE = "invoice", _("invoice")
    SUPPLIER_ORDER = "supplier_order", _("supplier order")
    CONTRACT = "contract", _("contract")
    OFFER = "offer", _("commercial offer")
    ACT = "act", _("act")
    OTHER = "other", _("other")


def _template_path(instance: "DocumentTemplate", filename: str) -> str:
    # The stored name never comes from the uploader: no path tricks, no clashes.
    return f"documents/templates/{timezone.now():%Y}/{timezone.now():%m%d%H%M%S%f}.docx"


def _document_path(instance: "Document", filename: str) -> str:
    ext = filename.rsplit(".", 1)[-1].lower()
    return f"documents/{instance.year}/{instance.kind}/{instance.kind}-{instance.year}-{instance.number}.{ext}"


class DocumentTemplate(models.Model):
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=32, choices=DocumentKind.choices)
    file = models.FileField(_("DOCX file"), upload_to=_template_path, max_length=300)
    # The placeholders the file uses (checked against the allowed names on upload).
    placeholders = models.JSONField(default=list, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+", verbose_name=_("uploaded by"))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kind", "name", "id"]

    def __str__(self) -> str:
        return self.name


class DocumentSequence(models.Model):
    """The last number given to a kind of document in a year: invoices 1, 2, 3... from January."""

    kind = models.CharField(max_length=32)
    year = models.PositiveIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "year"], name="document_sequence_unique")]


class Document(models.Model):
    class PdfStatus(models.TextChoices):
        PENDING = "pending", _("being made")
        DONE = "done", _("ready")
        FAILED = "failed", _("failed")

    deal = models.ForeignKey("deals.Deal", on_delete=models.CASCADE, related_name="documents")
    template = models.ForeignKey(DocumentTemplate, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="documents")
    kind = models.CharField(_("kind"), max_length=32, choices=DocumentKind.choices)
    number = models.PositiveIntegerField(_("number"))
    year = models.PositiveIntegerField(_("year"))
    title = models.CharField(_("title"), max_length=300)
    # A supplier order's supplier (its lines only); empty for customer documents.
    supplier = models.ForeignKey("deals.Supplier", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="documents")
    docx = models.FileField(upload_to=_document_path, max_length=300)
    pdf = models.FileField(upload_to=_document_path, max_length=300, blank=True)
    pdf_status = models.CharField(max_length=8, choices=PdfStatus.choices, default=PdfStatus.PENDING)
    pdf_error = models.CharField(max_length=500, blank=True)
    # The PDF's durable work: claimed with a lease by the worker when not made inline.
    attempts = models.PositiveIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)
    run_after = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    # Set when an e-mail carrying it was queued (the outbox sends it and logs delivery).
    sent_at = models.DateTimeField(null=True, blank=True)
    sent_to = models.CharField(max_length=300, blank=True)
    # Made by a rule for this deal's entry into a stage: "rule<id>-change<id>[-s<supplier>]";
    # the same entry handled twice makes nothing twice.
    origin_key = models.CharField(max_length=100, null=True, blank=True, unique=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["kind", "year", "number"], name="document_number_unique")]
        indexes = [
            models.Index(fields=["deal", "-created_at"]),
            # The drain's claim: few pending rows among many done ones.
            models.Index(fields=["pdf_status", "run_after"], name="document_pdf_due"),
        ]

    def __str__(self) -> str:
        return self.title


class DocumentRule(models.Model):
    """When a deal enters `stage`, make a document from `template` (and e-mail it when `send`).

    A supplier-order template makes one document per supplier of the deal's lines, e-mailed to
    the supplier's first address; any other kind makes one document, e-mailed to the customer."""

    stage = models.ForeignKey("deals.Stage", on_delete=models.CASCADE, related_name="document_rules",
                              verbose_name=_("stage"))
    template = models.ForeignKey(DocumentTemplate, on_delete=models.CASCADE, related_name="rules",
                                 verbose_name=_("template"))
    send = models.BooleanField(_("send by e-mail"), default=False)
    # The e-mail's subject and text (okno.outbox templates); empty: a short default text.
    message_template = models.ForeignKey("outbox.MessageTemplate", null=True, blank=True,
                                         on_delete=models.SET_NULL, related_name="+",
                                         verbose_name=_("e-mail template"))
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["stage", "id"]


class DocumentSettings(models.Model):
    """One row (pk=1): whose requisites are `our` in every template."""

    our_company = models.ForeignKey("contacts.Company", null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+", verbose_name=_("our company"),
                                    help_text=_("The company whose requisites templates print as the seller."))


class DocumentJob(models.Model):
    """A rule's work for one deal's entry into its stage: written in the move's transaction,
    done by the worker's `documents_jobs` drain (generate, then e-mail), so a move is never slowed
    or refused by a document and a crash loses no document."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    rule = models.ForeignKey(DocumentRule, on_delete=models.CASCADE, related_name="jobs")
    deal = models.ForeignKey("deals.Deal", on_delete=models.CASCADE, related_name="+")
    # "r<rule>-d<deal>-t<entry ms>": one job per rule and entry, however often it is published.
    key = models.CharField(max_length=100, unique=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)
    run_after = models.DateTimeField(default=timezone.now)
    result = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["status", "run_after"], name="document_job_due")]
