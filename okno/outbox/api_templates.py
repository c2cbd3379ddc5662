"""/api/v1/message-templates: e-mail and SMS templates (administrators write, everyone reads) and previews."""

from datetime import datetime

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Router, Schema, Status

from okno.core.errors import FieldError
from okno.outbox import services
from okno.outbox.models import MessageTemplate
from okno.outbox.templating import SAMPLE_CONTEXT, deal_context, template_render

router = Router(tags=["message-templates"])


class TemplateIn(Schema):
    name: str
    channel: str = "email"
    subject: str = ""
    body: str


class TemplatePatch(Schema):
    name: str | None = None
    channel: str | None = None
    subject: str | None = None
    body: str | None = None


class TemplateOut(Schema):
    id: int
    name: str
    channel: str
    subject: str
    body: str
    updated_at: datetime


class PreviewIn(Schema):
    channel: str = "email"
    subject: str = ""
    body: str = ""
    # Values to render with ({"deal": {...}, "contact": {...}, "company": {...}}); else a real deal
    # (`deal_id`, when the deals app offers it) or sample values.
    context: dict | None = None
    deal_id: int | None = None


class PreviewOut(Schema):
    subject: str
    body: str


def _context(request: HttpRequest, payload: PreviewIn) -> dict:
    if payload.context is not None:
        return payload.context
    if payload.deal_id is not None:
        return deal_context(user=request.user, deal_id=payload.deal_id)
    return SAMPLE_CONTEXT


@router.get("/message-templates", response=list[TemplateOut])
def list_templates(request: HttpRequest):
    return list(MessageTemplate.objects.order_by("name", "pk"))


@router.post("/message-templates", response={201: TemplateOut})
def create_template(request: HttpRequest, payload: TemplateIn):
    template = services.message_template_save(actor=request.user, template=MessageTemplate(**payload.dict()))
    return Status(201, template)


@router.post("/message-templates/preview", response=PreviewOut)
def preview(request: HttpRequest, payload: PreviewIn):
    """Renders a template that is not saved yet: 400 naming subject or body when it does not render."""
    if payload.channel not in MessageTemplate.Channel.values:
        raise FieldError({"channel": "email or sms"})
    subject, body = template_render(template=payload.dict(), context=_context(request, payload))
    return {"subject": subject, "body": body}


@router.get("/message-templates/{template_id}", response=TemplateOut)
def get_template(request: HttpRequest, template_id: int):
    return get_object_or_404(MessageTemplate, pk=template_id)


@router.patch("/message-templates/{template_id}", response=TemplateOut)
def update_template(request: HttpRequest, template_id: int, payload: TemplatePatch):
    template = get_object_or_404(MessageTemplate, pk=template_id)
    for field, value in payload.dict(exclude_unset=True).items():
        if value is not None:
            setattr(template, field, value)
    return services.message_template_save(actor=request.user, template=template)


@router.delete("/message-templates/{template_id}", response={204: None})
def delete_template(request: HttpRequest, template_id: int):
    services.message_template_delete(actor=request.user, template=get_object_or_404(MessageTemplate, pk=template_id))
    return Status(204, None)


@router.post("/message-templates/{template_id}/preview", response=PreviewOut)
def preview_saved(request: HttpRequest, template_id: int, payload: PreviewIn):
    """A saved template over `context`, a real deal (`deal_id`) or the sample values."""
    template = get_object_or_404(MessageTemplate, pk=template_id)
    subject, body = template_render(template=template, context=_context(request, payload))
    return {"subject": subject, "body": body}
