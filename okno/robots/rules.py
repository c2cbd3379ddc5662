"""What a robot's settings may be: one clean function per trigger, action and escalation.

The API and the settings forms both hand their values here; each bad value is named
(`within`, `stage_id`, `action.template_id`) with a reason in English that pages translate
(okno.core.reasons.reason_text). The result is the Robot's fields, ready to save.
"""

import re
from datetime import time

from django.utils.translation import gettext_noop

from okno.core.durations import parse_iso_duration
from okno.core.errors import FieldError
from okno.deals.models import Pipeline, Stage
from okno.people.models import Department, User
from okno.robots.models import Robot

EVENTS = ("message.received", "call.answered", "call.missed", "workitem.done")
# Deal fields a condition may test; custom fields as "custom.<key>".
CONDITION_FIELDS = ("amount", "title", "source", "currency", "responsible_id", "company_id", "contact_id")
OPS = ("eq", "ne", "gt", "gte", "lt", "lte", "contains", "empty", "not_empty")
REGISTER_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,99}$")
TIME_RE = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")

# Reasons given here, offered for translation (okno.core.reasons translates by text).
REASONS = [
    gettext_noop("no such stage"),
    gettext_noop("no such template"),
    gettext_noop("no such user"),
    gettext_noop("no such webhook endpoint"),
    gettext_noop("give within or until, not both"),
    gettext_noop("give within (an ISO 8601 duration) or until"),
    gettext_noop("must be a time of day such as 10:00"),
    gettext_noop("a stage of the same pipeline, not the robot's own"),
    gettext_noop("a level-2 deadline follows a level-1 deadline of the same stage"),
    gettext_noop("this action is not available"),
]


def _int(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _duration(value, name: str, errors: dict) -> str:
    try:
        parse_iso_duration(value)
    except ValueError as exc:
        errors[name] = str(exc)
        return ""
    return value.strip().upper()


def _choice(value, name: str, choices, errors: dict, *, default=None) -> str:
    if value is None and default is not None:
        return default
    if value not in choices:
        errors[name] = f"must be one of: {', '.join(c for c in choices if c)}"
        return default or ""
    return value


def _stage_of(pipeline: Pipeline | None, stage_id, name: str, errors: dict, *, not_id=None) -> int | None:
    sid = _int(stage_id)
    ok = sid is not None and pipeline is not None and sid != not_id and Stage.objects.filter(
        pk=sid, pipeline=pipeline).exists()
    if not ok:
        errors[name] = "a stage of the same pipeline, not the robot's own" if sid is not None and \
            Stage.objects.filter(pk=sid).exists() else "no such stage"
        return None
    return sid


def _user(value, name: str, errors: dict) -> int | None:
    uid = _int(value)
    if uid is None or not User.objects.filter(pk=uid, is_active=True).exists():
        errors[name] = "no such user"
        return None
    return uid


def _department(value, name: str, errors: dict) -> int | None:
    did = _int(value)
    if did is None or not Department.objects.filter(pk=did).exists():
        errors[name] = "no such department"
        return None
    return did


# ---- escalations ---------------------------------------------------------------------------

def escalation_clean(data, *, pipeline: Pipeline | None, stage_id: int | None, errors: dict) -> tuple[str, dict]:
    """{"action": "notify_head"} | {"action": "reassign", "user_id" | "department_id"} |
    {"action": "move", "stage_id"}; empty or None: the miss only marks the deal overdue."""
    if not data:
        return "", {}
    if not isinstance(data, dict):
        errors["escalate"] = "must be an object with action"
        return "", {}
    # "type" as actions name theirs, and the action names of the same effect, are understood too.
    raw = data.get("action", data.get("type"))
    raw = {"move_to_stage": "move", "change_responsible": "reassign", "notify": "notify_head"}.get(raw, raw)
    action = _choice(raw, "escalate.action", [c for c in Robot.Escalation.values if c], errors)
    params: dict = {}
    if action == Robot.Escalation.REASSIGN:
        if data.get("department_id") is not None:
            params["department_id"] = _department(data["department_id"], "escalate.department_id", errors)
        else:
            params["user_id"] = _user(data.get("user_id"), "escalate.user_id", errors)
    elif action == Robot.Escalation.MOVE:
        if pipeline is None:
            errors["escalate.action"] = "a lead cannot be moved to a stage"
        else:
            params["stage_id"] = _stage_of(pipeline, data.get("stage_id"), "escalate.stage_id", errors,
                                           not_id=stage_id)
    return action, params


# ---- triggers ------------------------------------------------------------------------------

def trigger_clean(data, errors: dict) -> tuple[str, dict]:
    """{"on": "enter"} | {"after": "PT1H", "time": "working"} | {"at": "10:00"} |
    {"when": {field, op, value}} | {"event": "message.received"}."""
    if not isinstance(data, dict) or not data:
        errors["trigger"] = "required"
        return "", {}
    if data.get("on") == "enter":
        return Robot.Trigger.ENTER, {}
    if "after" in data:
        return Robot.Trigger.AFTER, {
            "after": _duration(data["after"], "trigger.after", errors),
            "time": _choice(data.get("time"), "trigger.time", Robot.Time.values, errors, default=Robot.Time.WORKING)}
    if "at" in data:
        value = data["at"]
        if not isinstance(value, str) or not TIME_RE.match(value.strip()):
            errors["trigger.at"] = "must be a time of day such as 10:00"
            return Robot.Trigger.AT, {}
        h, m = TIME_RE.match(value.strip()).groups()
        return Robot.Trigger.AT, {"at": f"{int(h):02d}:{m}"}
    if "when" in data:
        return Robot.Trigger.WHEN, condition_clean(data["when"], errors)
    if "event" in data:
        return Robot.Trigger.EVENT, {"event": _choice(data["event"], "trigger.event", EVENTS, errors)}
    errors["trigger"] = "must be one of: on enter, after, at, when, event"
    return "", {}


def condition_clean(data, errors: dict) -> dict:
    if not isinstance(data, dict):
        errors["trigger.when"] = "must be an object with field, op and value"
        return {}
    field = data.get("field")
    if not isinstance(field, str) or not (field in CONDITION_FIELDS or re.match(r"^custom\.[a-z][a-z0-9_-]*$", field)):
        errors["trigger.when.field"] = f"must be one of: {', '.join(CONDITION_FIELDS)}, custom.<key>"
    op = _choice(data.get("op"), "trigger.when.op", OPS, errors)
    value = data.get("value")
    if op not in ("empty", "not_empty") and (value is None or isinstance(value, dict | list)):
        errors["trigger.when.value"] = "required"
    return {"field": field, "op": op, "value": value}


def trigger_time(params: dict) -> time:
    h, m = params["at"].split(":")
    return time(int(h), int(m))


# ---- actions -------------------------------------------------------------------------------

def _template(value, name: str, channel: str, errors: dict) -> int | None:
    from okno.outbox.models import MessageTemplate

    tid = _int(value)
    if tid is None or not MessageTemplate.objects.filter(pk=tid, channel=channel).exists():
        errors[name] = "no such template"
        return None
    return tid


def _clean_notify(data: dict, errors: dict, **_) -> dict:
    text = data.get("text") or ""
    if not isinstance(text, str) or len(text) > 500:
        errors["action.text"] = "must be 1 to 500 characters"
    return {"text": text if isinstance(text, str) else ""}


def _clean_email(data: dict, errors: dict, **_) -> dict:
    return {"template_id": _template(data.get("template_id"), "action.template_id", "email", errors)}


def _clean_sms(data: dict, errors: dict, **_) -> dict:
    return {"template_id": _template(data.get("template_id"), "action.template_id", "sms", errors)}


def _clean_work_item(data: dict, errors: dict, **_) -> dict:
    title = data.get("title")
    if not isinstance(title, str) or not title.strip() or len(title) > 300:
        errors["action.title"] = "must be 1 to 300 characters"
        title = ""
    due = _duration(data.get("due") or "PT1H", "action.due", errors)
    assignee = data.get("assignee", "responsible")
    if assignee != "responsible":
        assignee = _user(assignee, "action.assignee", errors)
    return {"title": title.strip(), "due": due,
            "time": _choice(data.get("time"), "action.time", Robot.Time.values, errors, default=Robot.Time.WORKING),
            "assignee": assignee}


def _clean_change_responsible(data: dict, errors: dict, **_) -> dict:
    if data.get("department_id") is not None:
        return {"department_id": _department(data["department_id"], "action.department_id", errors)}
    return {"user_id": _user(data.get("user_id"), "action.user_id", errors)}


def _clean_move(data: dict, errors: dict, *, pipeline=None, stage_id=None, **_) -> dict:
    return {"stage_id": _stage_of(pipeline, data.get("stage_id"), "action.stage_id", errors, not_id=stage_id)}


def _clean_webhook(data: dict, errors: dict, *, actor=None, **_) -> dict:
    from okno.outbox.models import WebhookEndpoint
    from okno.outbox.webhooks import UrlRefused, check_url

    if data.get("endpoint_id") is not None:
        eid = _int(data["endpoint_id"])
        if eid is None or not WebhookEndpoint.objects.filter(pk=eid).exists():
            errors["action.endpoint_id"] = "no such webhook endpoint"
        return {"endpoint_id": eid}
    url = data.get("url")
    if not isinstance(url, str) or not url.strip():
        errors["action.url"] = "give url or endpoint_id"
        return {}
    allow = bool(data.get("allow_private_network")) and getattr(actor, "is_admin", False)
    if data.get("allow_private_network") and not allow:
        errors["action.allow_private_network"] = "only an administrator may allow a private address"
    try:
        check_url(url, allow_private_network=allow, must_resolve=False)
    except UrlRefused as exc:
        errors["action.url"] = str(exc)
    return {"url": url.strip(), "allow_private_network": allow}


def _clean_register(data: dict, errors: dict, **_) -> dict:
    name = data.get("register_name")
    if not isinstance(name, str) or not REGISTER_RE.match(name):
        errors["action.register_name"] = "use lower-case letters, digits, - and _"
    return {"register_name": name}


ACTION_CLEAN = {
    Robot.Action.NOTIFY_RESPONSIBLE: _clean_notify,
    Robot.Action.EMAIL_CUSTOMER: _clean_email,
    Robot.Action.SMS_CUSTOMER: _clean_sms,
    Robot.Action.CREATE_WORK_ITEM: _clean_work_item,
    Robot.Action.CHANGE_RESPONSIBLE: _clean_change_responsible,
    Robot.Action.MOVE_TO_STAGE: _clean_move,
    Robot.Action.WEBHOOK: _clean_webhook,
    Robot.Action.REGISTER: _clean_register,
    # GENERATE_DOCUMENT and SEND_DOCUMENT: okno.documents.robot_actions registers its own.
}
# Lead robots act on a lead: only these make sense without a deal.
LEAD_ACTIONS = (Robot.Action.NOTIFY_RESPONSIBLE, Robot.Action.CHANGE_RESPONSIBLE, Robot.Action.WEBHOOK)


def action_clean(data, errors: dict, *, pipeline, stage_id, for_leads: bool, actor=None) -> tuple[str, dict]:
    if not isinstance(data, dict):
        errors["action"] = "must be an object with type"
        return "", {}
    allowed = LEAD_ACTIONS if for_leads else Robot.Action.values
    type_ = _choice(data.get("type"), "action.type", allowed, errors)
    if not type_:
        return "", {}
    clean = ACTION_CLEAN.get(type_)
    if clean is None:  # an action of an app that did not register it
        errors["action.type"] = "this action is not available"
        return "", {}
    return type_, clean(data, errors, pipeline=pipeline, stage_id=stage_id, actor=actor)


# ---- the whole robot -----------------------------------------------------------------------

def robot_data_clean(data: dict, *, robot: Robot | None = None, actor=None) -> dict:
    """The Robot's fields from the API's shape (a PATCH gives only what changes: the rest is
    taken from `robot`). Raises FieldError naming every bad value."""
    errors: dict[str, str] = {}
    current = robot_as_data(robot) if robot is not None else {}
    merged = {**current, **data}
    for one, other in (("within", "until"), ("until", "within")):
        if one in data and other not in data:
            merged.pop(other, None)  # a PATCH switching from one to the other
    fields: dict = {}
    if merged.get("kind") is None:  # plain to see from the rest of the body
        merged["kind"] = Robot.Kind.DEADLINE if ("within" in merged or "until" in merged) else \
            Robot.Kind.ACTION if ("trigger" in merged or "action" in merged) else None
    kind = _choice(merged.get("kind"), "kind", Robot.Kind.values, errors)
    for_leads = bool(merged.get("for_leads"))
    pipeline, stage_id = None, None
    if for_leads:
        fields["department_id"] = _department(merged["department_id"], "department_id", errors) \
            if merged.get("department_id") is not None else None
    else:
        stage = Stage.objects.select_related("pipeline").filter(pk=_int(merged.get("stage_id")) or 0).first()
        if stage is None:
            errors["stage_id"] = "no such stage"
        else:
            pipeline, stage_id = stage.pipeline, stage.pk
        fields["department_id"] = None
    fields.update(for_leads=for_leads, pipeline=pipeline, stage_id=stage_id, kind=kind)
    name = merged.get("name") or ""
    if not isinstance(name, str) or len(name) > 200:
        errors["name"] = "must be 1 to 200 characters"
        name = ""
    fields["name"] = name.strip()
    if "is_active" in merged:
        fields["is_active"] = bool(merged["is_active"])
    if kind == Robot.Kind.DEADLINE:
        within, until = merged.get("within"), merged.get("until")
        if within and until:
            errors["within"] = "give within or until, not both"
        elif until:
            fields["until"] = _choice(until, "until", Robot.Until.values, errors)
            fields["within"] = ""
        elif within is not None:
            fields["within"] = _duration(within, "within", errors)
            fields["until"] = ""
        else:
            errors["within"] = "give within (an ISO 8601 duration) or until"
        fields["time"] = _choice(merged.get("time"), "time", Robot.Time.values, errors, default=Robot.Time.WORKING)
        fields["escalation"], fields["escalation_params"] = escalation_clean(
            merged.get("escalate"), pipeline=pipeline, stage_id=stage_id, errors=errors)
        parent_id = _int(merged.get("parent_id"))
        if merged.get("parent_id") is not None:
            parent = Robot.objects.filter(pk=parent_id or 0, kind=Robot.Kind.DEADLINE, parent__isnull=True).first()
            if parent is None or parent.stage_id != stage_id or parent.for_leads != for_leads or (
                    robot is not None and parent.pk == robot.pk):
                errors["parent_id"] = "a level-2 deadline follows a level-1 deadline of the same stage"
        fields["parent_id"] = parent_id
        fields.update(trigger="", trigger_params={}, action="", action_params={})
    elif kind == Robot.Kind.ACTION:
        fields["trigger"], fields["trigger_params"] = trigger_clean(merged.get("trigger"), errors)
        if for_leads and fields["trigger"] not in (Robot.Trigger.ENTER, Robot.Trigger.AFTER, ""):
            errors["trigger"] = "a lead robot runs on a new lead or after a delay"
        fields["action"], fields["action_params"] = action_clean(
            merged.get("action"), errors, pipeline=pipeline, stage_id=stage_id, for_leads=for_leads, actor=actor)
        fields.update(within="", until="", escalation="", escalation_params={}, parent_id=None)
    if errors:
        raise FieldError(errors)
    return fields


def trigger_as_data(robot: Robot) -> dict:
    p = robot.trigger_params or {}
    return {
        Robot.Trigger.ENTER: lambda: {"on": "enter"},
        Robot.Trigger.AFTER: lambda: {"after": p.get("after"), "time": p.get("time", "working")},
        Robot.Trigger.AT: lambda: {"at": p.get("at")},
        Robot.Trigger.WHEN: lambda: {"when": p},
        Robot.Trigger.EVENT: lambda: {"event": p.get("event")},
    }.get(robot.trigger, dict)()


def robot_as_data(robot: Robot) -> dict:
    """The API's shape of a robot (what GET answers and what PATCH merges into)."""
    out = {"id": robot.pk, "kind": robot.kind, "name": robot.name, "is_active": robot.is_active,
           "position": robot.position, "pipeline_id": robot.pipeline_id, "stage_id": robot.stage_id,
           "for_leads": robot.for_leads, "department_id": robot.department_id}
    if robot.kind == Robot.Kind.DEADLINE:
        out.update(within=robot.within or None, until=robot.until or None, time=robot.time,
                   escalate={"action": robot.escalation, **robot.escalation_params} if robot.escalation else None,
                   parent_id=robot.parent_id, level=robot.level)
    else:
        params = dict(robot.action_params or {})
        if params.get("url"):
            params.pop("endpoint_id", None)  # the URL's own endpoint, made when the robot was saved
        out.update(trigger=trigger_as_data(robot), action={"type": robot.action, **params})
    return out
