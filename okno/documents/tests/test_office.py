"""The real LibreOffice, started once and reused: two conversions, one soffice."""

import pytest

from okno.documents import office, samples
from okno.documents.services import document_generate
from okno.documents.tests.factories import make_deal_with_lines, make_template

pytestmark = pytest.mark.skipif(not office.office_available(), reason="LibreOffice not installed "
                                "(scripts/office-deps.sh)")


def test_pdfs_come_from_one_reused_libreoffice(admin_user):
    # given a deal and the sample invoice
    deal = make_deal_with_lines()
    template = make_template(user=admin_user)
    starts = office.office().starts
    # when two documents are made
    first = document_generate(deal=deal, template=template, user=admin_user)
    second = document_generate(deal=deal, template=template, user=admin_user)
    # then both PDFs are real and LibreOffice was started at most once for them
    for d in (first, second):
        assert d.pdf_status == "done", d.pdf_error
        with d.pdf.open("rb") as f:
            assert f.read(5) == b"%PDF-"
    assert office.office().starts - starts <= 1


def test_a_hung_conversion_times_out_and_the_next_one_works():
    data = samples.invoice_docx()
    with pytest.raises(office.OfficeError):
        office.docx_to_pdf(data, timeout=0.001)
    assert office.docx_to_pdf(data).startswith(b"%PDF")
