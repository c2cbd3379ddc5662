import pytest


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    """Generated files go to the test's own directory, never to var/media."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def fake_pdf(monkeypatch):
    """LibreOffice replaced by a stub: most tests check numbering, access and flow, not rendering
    (test_office.py converts with the real one)."""
    from okno.documents import office

    calls = []

    def convert(docx: bytes, *, timeout: float = 30) -> bytes:
        calls.append(len(docx))
        return b"%PDF-1.4 fake"

    monkeypatch.setattr(office, "docx_to_pdf", convert)
    return calls
