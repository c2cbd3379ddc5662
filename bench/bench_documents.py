"""Documents: DOCX and PDF per second with the reused LibreOffice, beside a cold start each.

One deal of ten lines and the sample invoice template (okno/documents/samples.py). Measured in
one run, one after another on the same machine:
- raw baseline: docxtpl rendering the template in memory (no database, no numbering, no file);
- `document_generate` without the PDF: number taken, DOCX rendered and stored, the row and its
  timeline entry written (what the API's request does before the PDF);
- PDF through this process's LibreOffice started once and reused (its first start timed apart),
  and `document_generate` with its PDF made inline that way: DOCX + PDF, what one click costs;
- PDF with a cold `soffice --convert-to pdf` per document: what "one process per document" costs.
The commit measured is the first row.
"""

import os
import subprocess
import time
from decimal import Decimal
from pathlib import Path

from okno.contacts.models import Contact
from okno.deals.models import Deal, DealLineItem, Pipeline, Stage
from okno.documents import office, samples
from okno.documents.context import document_context
from okno.documents.models import DocumentKind, DocumentTemplate
from okno.documents.services import Upload, document_generate, document_template_upload
from okno.documents.templating import template_render

COUNTS = {"full": {"docx": 200, "pdf": 50, "cold": 5}, "small": {"docx": 30, "pdf": 10, "cold": 2}}
ROOT = Path(__file__).resolve().parent.parent


def commit_measured() -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    head = git("rev-parse", "--short=12", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--untracked-files=no", "--", "bench", "okno/documents")
    return head + ("+dirty" if dirty else "")


def _seed() -> tuple[Deal, DocumentTemplate]:
    pipeline, _ = Pipeline.objects.get_or_create(name="bench-documents-v1")
    stage, _ = Stage.objects.get_or_create(pipeline=pipeline, name="Новый")
    contact = Contact.objects.filter(first_name="bench-documents").first() or \
        Contact.objects.create(first_name="bench-documents", last_name="Петров")
    deal = Deal.objects.filter(pipeline=pipeline).first()
    if deal is None:
        deal = Deal.objects.create(pipeline=pipeline, stage=stage, title="Заказ 1001", amount=Decimal("123456.78"),
                                   contact=contact)
        DealLineItem.objects.bulk_create([DealLineItem(deal=deal, name=f"Товар {i}", sku=f"SKU-{i}", position=i,
                                                       quantity=Decimal(i), price=Decimal("999.90"))
                                          for i in range(1, 11)])
    template = DocumentTemplate.objects.filter(name="bench-documents").first() or document_template_upload(
        name="bench-documents", kind=DocumentKind.INVOICE,
        upload=Upload(name="invoice.docx", data=samples.invoice_docx()), user=None)
    return deal, template


def _rate(n: int, seconds: float) -> float:
    return round(n / seconds, 1) if seconds else 0.0


def run(*, db: str, scale: str) -> list[dict]:
    counts = COUNTS[scale]
    deal, template = _seed()
    rows = [{"metric": "commit", "value": commit_measured(), "target": "", "ok": None},
            {"metric": "load average at start (2 cores shared)", "value": round(os.getloadavg()[0], 1),
             "target": "", "ok": None}]
    data = samples.invoice_docx()
    context = document_context(deal=deal, number=1, year=2026, title="Счёт № 1", kind="invoice")

    t = time.perf_counter()
    for _ in range(counts["docx"]):
        docx = template_render(data, context)
    raw = time.perf_counter() - t
    rows.append({"metric": "raw baseline: docxtpl render in memory, DOCX/s", "value": _rate(counts["docx"], raw),
                 "target": "", "ok": None})

    t = time.perf_counter()
    for _ in range(counts["docx"]):
        document_generate(deal=deal, template=template, user=None, pdf_inline=False)
    made = time.perf_counter() - t
    rows.append({"metric": "document_generate (number, DOCX stored, row, timeline), DOCX/s",
                 "value": _rate(counts["docx"], made), "target": "", "ok": None})

    if not office.office_available():
        rows.append({"metric": "PDF", "value": "LibreOffice not installed", "target": "", "ok": False})
        return rows
    office.office().stop()
    t = time.perf_counter()
    office.docx_to_pdf(docx)
    rows.append({"metric": "reused LibreOffice: first start + first PDF, s", "value": round(time.perf_counter() - t, 2),
                 "target": "", "ok": None})
    t = time.perf_counter()
    for _ in range(counts["pdf"]):
        office.docx_to_pdf(docx)
    warm = time.perf_counter() - t
    rows.append({"metric": "reused LibreOffice, PDF/s", "value": _rate(counts["pdf"], warm), "target": "",
                 "ok": None})
    rows.append({"metric": "reused LibreOffice, ms per PDF", "value": round(1000 * warm / counts["pdf"], 1),
                 "target": "", "ok": None})
    t = time.perf_counter()
    made = [document_generate(deal=deal, template=template, user=None) for _ in range(counts["pdf"])]
    both = time.perf_counter() - t
    pdfs = sum(1 for d in made if d.pdf_status == "done")
    rows.append({"metric": "document_generate with its PDF inline (DOCX + PDF), documents/s",
                 "value": _rate(counts["pdf"], both), "target": "", "ok": None})
    rows.append({"metric": "of them with the PDF made", "value": pdfs, "target": counts["pdf"],
                 "ok": pdfs == counts["pdf"]})
    office.office().stop()

    t = time.perf_counter()
    for _ in range(counts["cold"]):
        office.docx_to_pdf_cold(docx)
    cold = time.perf_counter() - t
    rows.append({"metric": "cold soffice per document, PDF/s", "value": _rate(counts["cold"], cold), "target": "",
                 "ok": None})
    rows.append({"metric": "cold soffice per document, ms per PDF", "value": round(1000 * cold / counts["cold"], 1),
                 "target": "", "ok": None})
    speedup = (cold / counts["cold"]) / (warm / counts["pdf"])
    rows.append({"metric": "reused vs cold speed-up", "value": round(speedup, 1), "target": "> 1", "ok": speedup > 1})
    rows.append({"metric": "load average at the end", "value": round(os.getloadavg()[0], 1), "target": "",
                 "ok": None})
    return rows
