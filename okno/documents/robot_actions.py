"""The robots' "generate a document" and "send a document by e-mail" actions.

Registered from DocumentsConfig.ready() into okno.robots' action tables (robots imports no
documents module): `actions.DEAL_ACTIONS` runs them, `rules.ACTION_CLEAN` checks their
parameters. A robot run executes inside the robots drain's transaction, so the document, its
number and its outbox e-mail commit with the run marked done, or not at all; the run's id is
the origin key, so a run repeated after a lost lease finds what it made.

Robot.Action's choices (the robot form's list) are the robots app's to extend with
GENERATE/SEND (a robots migration): until then these actions are reachable only where a
robot's `action` is set to them directly; the stage rules (okno/documents/models.DocumentRule)
are the administrator's way in (docs/documents.md).
"""

from okno.deals.models import Deal
from okno.documents.drains import deal_documents_make
from okno.documents.models import DocumentTemplate

GENERATE = "generate_document"
SEND = "send_document"


def _clean(data: dict, errors: dict, **_) -> dict:
    from okno.outbox.models import MessageTemplate

    raw = data.get("template_id")
    tid = raw if isinstance(raw, int) else int(raw) if isinstance(raw, str) and raw.isdigit() else None
    if tid is None or not DocumentTemplate.objects.filter(pk=tid, is_active=True).exists():
        errors["action.template_id"] = "no such document template"
    params = {"template_id": tid}
    raw_msg = data.get("message_template_id")
    if raw_msg not in (None, ""):
        mid = int(raw_msg) if str(raw_msg).isdigit() else None
        if mid is None or not MessageTemplate.objects.filter(pk=mid, channel="email").exists():
            errors["action.message_template_id"] = "no such e-mail template"
        params["message_template_id"] = mid
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
                               key=f"robotrun-{run.pk}")


def run_generate(run, robot, deal: Deal) -> str:
    return _run(run, robot, deal, send=False)


def run_send(run, robot, deal: Deal) -> str:
    return _run(run, robot, deal, send=True)


def register() -> None:
    from okno.robots import actions, rules

    actions.DEAL_ACTIONS.setdefault(GENERATE, run_generate)
    actions.DEAL_ACTIONS.setdefault(SEND, run_send)
    rules.ACTION_CLEAN.setdefault(GENERATE, _clean)
    rules.ACTION_CLEAN.setdefault(SEND, _clean)
