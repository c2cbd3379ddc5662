"""The robots' "generate a document" and "generate and send it by e-mail" actions.

Registered from DocumentsConfig.ready() into okno.robots' tables (robots imports no documents
module): `actions.DEAL_ACTIONS` runs them, `rules.ACTION_CLEAN` checks their parameters and
`forms.ACTION_FIELDS` draws them in the robot form as labelled fields (a template chosen from
the document templates, an e-mail template, an address), never as JSON. The action types are
Robot.Action's GENERATE_DOCUMENT / SEND_DOCUMENT.

A robot run executes inside the robots drain's transaction, so the document, its number and
its outbox e-mail commit with the run marked done, or not at all (a rolled-back document's
files are removed: okno.documents.storage); the run's id is the origin key, so a run repeated
after a lost lease finds what it made.
"""

from django import forms
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from okno.deals.models import Deal
from okno.documents.drains import deal_documents_make
from okno.documents.models import DocumentTemplate

GENERATE = "generate_document"
SEND = "send_document"

# Reasons given here, offered for translation (okno.core.reasons translates by text).
REASONS = [
    gettext_noop("no such document template"),
    gettext_noop("no such e-mail template"),
    gettext_noop("not an e-mail address"),
]


def _clean(data: dict, errors: dict, **_) -> dict:
    """{"template_id"} for both; "send" also takes {"message_template_id"?, "to"?}."""
    from okno.outbox.models import MessageTemplate

    raw = data.get("template_id")
    tid = raw if isinstance(raw, int) else int(raw) if isinstance(raw, str) and raw.isdigit() else None
    if tid is None or not DocumentTemplate.objects.filter(pk=tid, is_active=True).exists():
        errors["action.template_id"] = "no such document template"
    params: dict = {"template_id": tid}
    raw_msg = data.get("message_template_id")
    if raw_msg not in (None, ""):
        mid = int(raw_msg) if str(raw_msg).isdigit() else None
        if mid is None or not MessageTemplate.objects.filter(pk=mid, channel="email").exists():
            errors["action.message_template_id"] = "no such e-mail template"
        params["message_template_id"] = mid
    to = data.get("to")
    if to not in (None, ""):
        to = str(to).strip()
        try:
            validate_email(to)
        except forms.ValidationError:
            errors["action.to"] = "not an e-mail address"
        params["to"] = to[:300]
    return params


def _run(run, robot, deal: Deal, *, send: bool) -> str:
    from okno.outbox.models import MessageTemplate
    from okno.robots.actions import RunRefused

    params = robot.action_params or {}
    template = DocumentTemplate.objects.filter(pk=params.get("template_id") or 0, is_active=True).first()
    if template is None:
        raise RunRefused("the document template is gone or switched off")
    message_template = MessageTemplate.objects.filter(pk=params.get("message_template_id") or 0).first()
    return deal_documents_make(deal=deal, template=template, send=send, message_template=message_template,
                               key=f"robotrun-{run.pk}", to=params.get("to") or "")


def run_generate(run, robot, deal: Deal) -> str:
    return _run(run, robot, deal, send=False)


def run_send(run, robot, deal: Deal) -> str:
    return _run(run, robot, deal, send=True)


def _template_field() -> forms.Field:
    choices = [("", "—")] + [(t.pk, f"{t.name} ({t.get_kind_display()})")
                             for t in DocumentTemplate.objects.filter(is_active=True).order_by("kind", "name", "id")]
    return forms.TypedChoiceField(
        label=_("Document template"), required=False, coerce=int, empty_value=None, choices=choices,
        help_text=_("A supplier order makes one document per supplier of the deal's lines; any other kind, one "
                    "document. Each is numbered and kept on the deal, as DOCX and PDF."))


def _message_template_field() -> forms.Field:
    from okno.outbox.models import MessageTemplate

    choices = [("", _("— (a short standard text)"))] + [
        (t.pk, t.name) for t in MessageTemplate.objects.filter(channel="email").order_by("name")]
    return forms.TypedChoiceField(
        label=_("E-mail template"), required=False, coerce=int, empty_value=None, choices=choices,
        help_text=_("The e-mail's subject and text; the document's PDF and DOCX are attached."))


def _to_field() -> forms.Field:
    return forms.EmailField(
        label=_("Send to"), required=False, max_length=300,
        help_text=_("Empty: a supplier order to its supplier's first e-mail, any other document to the "
                    "customer's first e-mail."))


def register() -> None:
    from okno.robots import actions, rules
    from okno.robots import forms as robot_forms

    actions.DEAL_ACTIONS.setdefault(GENERATE, run_generate)
    actions.DEAL_ACTIONS.setdefault(SEND, run_send)
    rules.ACTION_CLEAN.setdefault(GENERATE, _clean)
    rules.ACTION_CLEAN.setdefault(SEND, _clean)
    field = robot_forms.ActionField
    robot_forms.register_action_field(field(name="document_template", param="template_id", actions=(GENERATE, SEND),
                                            make=_template_field))
    robot_forms.register_action_field(field(name="document_message_template", param="message_template_id",
                                            actions=(SEND,), make=_message_template_field))
    robot_forms.register_action_field(field(name="document_to", param="to", actions=(SEND,), make=_to_field))
