"""The worker's document work: PDFs not made inline, and the stage rules' jobs.

Both are rows claimed with a lease (okno.core.leases.claim_batch): a worker killed mid-batch
leaves them to be claimed again when the lease runs out; a second run of a job finds its
documents by their origin key and its e-mails by their outbox key, so nothing is made twice.
"""

import logging
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from okno.core.events import Event
from okno.core.leases import claim_batch
from okno.deals.models import Deal
from okno.documents.models import Document, DocumentJob, DocumentKind, DocumentRule
from okno.documents.services import deal_documents_generate, document_pdf_make

log = logging.getLogger(__name__)

# A PDF takes ~0.1 s in a warm LibreOffice; 10 a batch keeps a batch well inside its lease.
PDF_BATCH = 10
PDF_LEASE_SECONDS = 300
JOB_BATCH = 10
JOB_LEASE_SECONDS = 600
JOB_MAX_ATTEMPTS = 5


def documents_pdf_drain(batch: int = PDF_BATCH) -> int:
    ids = claim_batch(Document, ready=Q(pdf_status=Document.PdfStatus.PENDING), limit=batch,
                      lease_seconds=PDF_LEASE_SECONDS)
    for document in Document.objects.filter(pk__in=ids):
        document.attempts -= 1  # the claim counted this attempt already; pdf_make counts it
        document_pdf_make(document=document)
    return len(ids)


def deal_documents_make(*, deal: Deal, template, send: bool, message_template, key: str, to: str = "") -> str:
    """The documents a rule or a robot makes for a deal (services.deal_documents_generate), and
    the line its log keeps. Unlike the manager's click, a supplier order is made only for the
    suppliers the lines name: with none, nothing is made."""
    if template.kind == DocumentKind.SUPPLIER_ORDER and not deal.lines.filter(supplier__isnull=False).exists():
        return "no line names a supplier: no supplier order"
    documents = deal_documents_generate(deal=deal, template=template, user=None, send=send, to=to,
                                        message_template=message_template, key=key)
    notes = []
    for document in documents:
        if document.sent_at:
            notes.append(f"{document.title} → {document.sent_to}")
        elif send:
            notes.append(f"{document.title} (no e-mail address: not sent)")
        else:
            notes.append(document.title)
    return "; ".join(notes)


def rule_job_run(job: DocumentJob) -> str:
    """Generates the rule's document(s) for the deal and e-mails them when the rule says so."""
    rule = DocumentRule.objects.select_related("template", "message_template").get(pk=job.rule_id)
    deal = Deal.objects.select_related("contact", "company", "stage", "pipeline").get(pk=job.deal_id)
    return deal_documents_make(deal=deal, template=rule.template, send=rule.send,
                               message_template=rule.message_template, key=job.key)


def documents_jobs_drain(batch: int = JOB_BATCH) -> int:
    ids = claim_batch(DocumentJob, ready=Q(status=DocumentJob.Status.PENDING), limit=batch,
                      lease_seconds=JOB_LEASE_SECONDS)
    for job in DocumentJob.objects.filter(pk__in=ids):
        try:
            result = rule_job_run(job)
            DocumentJob.objects.filter(pk=job.pk).update(status=DocumentJob.Status.DONE, result=result[:500],
                                                         locked_until=None)
        except Exception as exc:  # a template that no longer renders, a deleted deal: retried, then kept failed
            log.warning("document job %s failed: %s", job.pk, exc)
            failed = job.attempts >= JOB_MAX_ATTEMPTS
            DocumentJob.objects.filter(pk=job.pk).update(
                status=DocumentJob.Status.FAILED if failed else DocumentJob.Status.PENDING,
                result=f"{type(exc).__name__}: {exc}"[:500], locked_until=None,
                run_after=timezone.now() + timedelta(seconds=30 * 2 ** job.attempts))
    return len(ids)


def on_deal_entered_stage(event: Event) -> None:
    """`deal.stage_changed` / `deal.created`: one job per active rule of the stage entered,
    written in the move's transaction (the move and its documents' job commit together)."""
    stage_id = event.data.get("to_stage_id") or event.data.get("stage_id")
    deal_id = event.data.get("deal_id")
    if not stage_id or not deal_id:
        return
    rules = list(DocumentRule.objects.filter(stage_id=stage_id, is_active=True, template__is_active=True)
                 .values_list("pk", flat=True))
    if not rules:
        return
    at_ms = int(event.at.timestamp() * 1000)
    DocumentJob.objects.bulk_create(
        [DocumentJob(rule_id=r, deal_id=deal_id, key=f"r{r}-d{deal_id}-t{at_ms}") for r in rules],
        ignore_conflicts=True)
