"""Serving a document's files: DOCX always, PDF once made (made on the spot when still pending)."""

from django.http import FileResponse

from okno.core.errors import ApiError
from okno.documents.models import Document
from okno.documents.services import DOCX_MIME, PDF_INLINE_TIMEOUT_SECONDS, document_pdf_make


def document_file_response(document: Document, fmt: str) -> FileResponse:
    base = f"{document.kind}-{document.year}-{document.number}"
    if fmt == "docx":
        return FileResponse(document.docx.open("rb"), as_attachment=True, filename=f"{base}.docx",
                            content_type=DOCX_MIME)
    if fmt != "pdf":
        raise ApiError("Unknown format", errors=[{"field": "format", "reason": "docx or pdf"}], status=404)
    if document.pdf_status == Document.PdfStatus.PENDING:
        document = document_pdf_make(document=document, timeout=PDF_INLINE_TIMEOUT_SECONDS)
    if document.pdf_status != Document.PdfStatus.DONE:
        raise ApiError("The PDF is not made", status=409, errors=[
            {"field": "pdf", "reason": document.pdf_error or "LibreOffice could not convert the document; "
                                                              "the DOCX is available"}])
    return FileResponse(document.pdf.open("rb"), as_attachment=True, filename=f"{base}.pdf",
                        content_type="application/pdf")
