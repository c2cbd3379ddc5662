"""DOCX templates: checked on upload, rendered with docxtpl in a Jinja sandbox.

An administrator's DOCX is untrusted input: it is a zip (checked for size and for a zip bomb
before anything parses it), its placeholders are Jinja, rendered in Jinja's
SandboxedEnvironment (no `__class__` walks to Python internals) with StrictUndefined, so a
name the context does not have is an error, not an empty gap in a contract.

On upload a template is parsed (a syntax error is refused with Jinja's reason and line) and
rendered once against a sample context holding every allowed name: an unknown top-level name
or an unknown field of a known one (`deal.nmber`) is refused naming it.
"""

import io
import zipfile
from dataclasses import dataclass

from docxtpl import DocxTemplate
from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment

from okno.core.errors import FieldError
from okno.documents.context import ALLOWED, SAMPLE_CONTEXT

# A template is a few pages of text and a logo; 5 MB is generous, and caps what is parsed.
MAX_TEMPLATE_BYTES = 5 * 1024 * 1024
# Unpacked size of all its parts: a DOCX compresses ~5-10x; more than this is a zip bomb.
MAX_UNPACKED_BYTES = 60 * 1024 * 1024
MAX_PARTS = 500


@dataclass
class TemplateCheck:
    placeholders: list[str]


def _env() -> SandboxedEnvironment:
    return SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)


def _open_zip(data: bytes, field: str) -> None:
    if len(data) > MAX_TEMPLATE_BYTES:
        raise FieldError({field: f"the file is larger than {MAX_TEMPLATE_BYTES // (1024 * 1024)} MB"})
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise FieldError({field: "not a DOCX file (a DOCX is a zip archive; .doc and PDF are not accepted)"}) from None
    infos = archive.infolist()
    if len(infos) > MAX_PARTS or sum(i.file_size for i in infos) > MAX_UNPACKED_BYTES:
        raise FieldError({field: "the DOCX unpacks to too much data"})
    if "word/document.xml" not in archive.namelist():
        raise FieldError({field: "not a Word document: word/document.xml is missing"})


def _syntax_reason(exc: TemplateSyntaxError) -> str:
    return f"placeholder syntax error: {exc.message}"


def template_check(data: bytes, *, field: str = "file") -> TemplateCheck:
    """The placeholders of an uploaded DOCX, or FieldError naming the bad one and why."""
    _open_zip(data, field)
    env = _env()
    try:
        doc = DocxTemplate(io.BytesIO(data))
        names = sorted(doc.get_undeclared_template_variables(jinja_env=env))
    except TemplateSyntaxError as exc:
        raise FieldError({field: _syntax_reason(exc)}) from None
    except (KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise FieldError({field: f"the DOCX could not be read: {exc}"}) from None
    unknown = [n for n in names if n not in ALLOWED]
    if unknown:
        raise FieldError({field: "unknown placeholder: " + ", ".join(unknown)
                          + "; allowed: " + ", ".join(ALLOWED)})
    try:
        doc = DocxTemplate(io.BytesIO(data))
        doc.render(SAMPLE_CONTEXT, jinja_env=env)
    except UndefinedError as exc:
        raise FieldError({field: f"unknown placeholder: {_undefined_name(exc)}"}) from None
    except TemplateSyntaxError as exc:
        raise FieldError({field: _syntax_reason(exc)}) from None
    except TemplateError as exc:
        raise FieldError({field: f"the template does not render: {exc}"}) from None
    return TemplateCheck(placeholders=names)


def _undefined_name(exc: UndefinedError) -> str:
    # Jinja says "'dict object' has no attribute 'nmber'": the field name is what a person needs.
    text = str(exc.message or exc)
    if "has no attribute" in text:
        return text.rsplit("has no attribute", 1)[1].strip(" '\"")
    return text


def template_render(data: bytes, context: dict) -> bytes:
    """The filled DOCX. Raises FieldError("template") when this deal's data does not render."""
    try:
        doc = DocxTemplate(io.BytesIO(data))
        doc.render(context, jinja_env=_env())
    except UndefinedError as exc:
        raise FieldError({"template_id": f"unknown placeholder: {_undefined_name(exc)}"}) from None
    except TemplateError as exc:
        raise FieldError({"template_id": f"the template does not render: {exc}"}) from None
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
