"""The robot form of the pipeline settings page: labelled fields per trigger and action type.

People never type JSON or ISO 8601 here: a duration is a number and a unit, a person is picked
from a list. The form turns its values into the API's shape (`to_data`) and okno.robots.rules
checks them, so the page and the API refuse the same things with the same reasons.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django import forms
from django.utils.translation import gettext_lazy as _

from okno.core.durations import parse_iso_duration
from okno.people.models import Department, User
from okno.robots.models import Robot
from okno.robots.rules import CONDITION_FIELDS, EVENTS, OPS

UNITS = [("M", _("minutes")), ("H", _("hours")), ("D", _("working days / days"))]
OP_LABELS = {"eq": _("equals"), "ne": _("does not equal"), "gt": _("is greater than"), "gte": _("is at least"),
             "lt": _("is less than"), "lte": _("is at most"), "contains": _("contains"), "empty": _("is empty"),
             "not_empty": _("is filled")}
FIELD_LABELS = {"amount": _("amount"), "title": _("title"), "source": _("source"), "currency": _("currency"),
                "responsible_id": _("responsible (user id)"), "company_id": _("company (id)"),
                "contact_id": _("contact (id)")}
EVENT_LABELS = {"message.received": _("the customer wrote"), "call.answered": _("a call was answered"),
                "call.missed": _("a call was missed"), "workitem.done": _("a work item was done")}
# The rules' names of bad values -> this form's fields.
FORM_FIELD = {
    "name": "name", "within": "within_amount", "until": "deadline_mode", "time": "time",
    "escalate.action": "escalation", "escalate.user_id": "escalation_user", "escalate.department_id":
    "escalation_department", "escalate.stage_id": "escalation_stage", "parent_id": "parent",
    "trigger": "trigger", "trigger.after": "after_amount", "trigger.time": "after_time", "trigger.at": "at",
    "trigger.when": "when_field", "trigger.when.field": "when_field", "trigger.when.op": "when_op",
    "trigger.when.value": "when_value", "trigger.event": "event", "action": "action", "action.type": "action",
    "action.text": "text", "action.template_id": "template", "action.title": "title", "action.due": "due_amount",
    "action.assignee": "assignee", "action.user_id": "user", "action.department_id": "department",
    "action.stage_id": "stage", "action.endpoint_id": "endpoint", "action.url": "url",
    "action.allow_private_network": "url", "action.register_name": "register_name",
}


@dataclass(frozen=True)
class ActionField:
    """A labelled form field of an action another app runs (okno.documents' "generate a
    document"), so the robots app draws and saves it without importing that app."""

    name: str  # the form field's name, unique in the form
    param: str  # its key in the action's parameters; the rules name its bad value "action.<param>"
    actions: tuple[str, ...]  # the action types it belongs to (shown only for those)
    make: Callable[[], forms.Field]  # a fresh field per form, so its choices are read when drawn


ACTION_FIELDS: list[ActionField] = []


def register_action_field(field: ActionField) -> None:
    """Called from an app's ready(); registering a name twice keeps the first."""
    if all(f.name != field.name for f in ACTION_FIELDS):
        ACTION_FIELDS.append(field)


def _duration(amount: int | None, unit: str) -> str | None:
    if amount is None:
        return None
    return f"P{amount}D" if unit == "D" else f"PT{amount}{unit}"


def _split(text: str) -> tuple[int | None, str]:
    """"PT90M" -> (90, "M"); "P1D" -> (1, "D"); whole hours shown as hours."""
    try:
        td = parse_iso_duration(text)
    except ValueError:
        return None, "M"
    if td % timedelta(days=1) == timedelta(0) and td:
        return td // timedelta(days=1), "D"
    if td % timedelta(hours=1) == timedelta(0) and td:
        return td // timedelta(hours=1), "H"
    return int(td.total_seconds() // 60), "M"


def duration_text(text: str) -> str:
    """"PT30M" -> "30 min", "P1D" -> "1 d" (the settings page's short form), in the user's language."""
    from django.utils.translation import gettext

    amount, unit = _split(text or "")
    if amount is None:
        return text or ""
    return gettext("%(n)s min") % {"n": amount} if unit == "M" else \
        gettext("%(n)s h") % {"n": amount} if unit == "H" else gettext("%(n)s d") % {"n": amount}


def _amount(label):
    return forms.IntegerField(label=label, required=False, min_value=1, max_value=100000)


class RobotForm(forms.Form):
    kind = forms.ChoiceField(choices=Robot.Kind.choices, widget=forms.HiddenInput)
    name = forms.CharField(label=_("Name"), max_length=200, required=False,
                           help_text=_("As the settings page and the deal's robot log show it."))
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True,
                                   help_text=_("A robot switched off starts nothing new; what it queued is skipped."))
    # lead robots: whose new leads
    scope_department = forms.TypedChoiceField(label=_("New leads of"), required=False, coerce=int, empty_value=None,
                                              help_text=_("Empty: every department's new leads."))
    # deadline
    deadline_mode = forms.ChoiceField(label=_("The deal must leave the stage"), choices=[
        ("within", _("within a time")), ("end_of_working_day", _("by the end of the working day"))],
        initial="within", required=False)
    within_amount = _amount(_("Within"))
    within_unit = forms.ChoiceField(label=_("Unit"), choices=UNITS, initial="M", required=False)
    time = forms.ChoiceField(label=_("Counted in"), choices=Robot.Time.choices, initial=Robot.Time.WORKING,
                             required=False, help_text=_("Working time skips nights, weekends and holidays of "
                                                         "the pipeline's calendar."))
    escalation = forms.ChoiceField(label=_("When missed"), choices=Robot.Escalation.choices, required=False,
                                   help_text=_("The deal is marked overdue on the board in any case."))
    escalation_user = forms.TypedChoiceField(label=_("Reassign to"), required=False, coerce=int, empty_value=None)
    escalation_department = forms.TypedChoiceField(label=_("Or to the next person of"), required=False, coerce=int,
                                                   empty_value=None)
    escalation_stage = forms.TypedChoiceField(label=_("Move to"), required=False, coerce=int, empty_value=None)
    parent = forms.TypedChoiceField(label=_("Second level of"), required=False, coerce=int, empty_value=None,
                                    help_text=_("A second-level deadline counts from the miss of the first."))
    # action: trigger
    trigger = forms.ChoiceField(label=_("When"), choices=Robot.Trigger.choices, initial=Robot.Trigger.ENTER,
                                required=False)
    after_amount = _amount(_("After"))
    after_unit = forms.ChoiceField(label=_("Unit"), choices=UNITS, initial="H", required=False)
    after_time = forms.ChoiceField(label=_("Counted in"), choices=Robot.Time.choices, initial=Robot.Time.WORKING,
                                   required=False)
    at = forms.CharField(label=_("At"), required=False, max_length=5, widget=forms.TimeInput(attrs={"type": "time"}),
                         help_text=_("The next working day's time, in the pipeline calendar's time zone."))
    when_field = forms.ChoiceField(label=_("Field"), required=False)
    when_op = forms.ChoiceField(label=_("Condition"), required=False,
                                choices=[(op, OP_LABELS[op]) for op in OPS])
    when_value = forms.CharField(label=_("Value"), required=False, max_length=200)
    event = forms.ChoiceField(label=_("Event"), required=False, choices=[(e, EVENT_LABELS[e]) for e in EVENTS])
    # action: what it does
    action = forms.ChoiceField(label=_("Do"), choices=Robot.Action.choices, required=False)
    text = forms.CharField(label=_("Text"), required=False, max_length=500,
                           help_text=_("Empty: the deal's title and stage."))
    template = forms.TypedChoiceField(label=_("Template"), required=False, coerce=int, empty_value=None)
    title = forms.CharField(label=_("Work item"), required=False, max_length=300)
    due_amount = _amount(_("Due in"))
    due_unit = forms.ChoiceField(label=_("Unit"), choices=UNITS, initial="H", required=False)
    assignee = forms.ChoiceField(label=_("For"), required=False)
    user = forms.TypedChoiceField(label=_("New responsible"), required=False, coerce=int, empty_value=None)
    department = forms.TypedChoiceField(label=_("Or the next person of"), required=False, coerce=int,
                                        empty_value=None, help_text=_("Round robin among those at work."))
    stage = forms.TypedChoiceField(label=_("Stage"), required=False, coerce=int, empty_value=None)
    endpoint = forms.TypedChoiceField(label=_("Webhook endpoint"), required=False, coerce=int, empty_value=None)
    url = forms.URLField(label=_("Or a URL"), required=False, max_length=2000, assume_scheme="https",
                         help_text=_("Signed as Standard Webhooks says; private addresses are refused."))
    register_name = forms.SlugField(label=_("Register"), required=False, max_length=100,
                                    help_text=_("For example confirmed-orders; exportable to Excel."))

    def __init__(self, *args, pipeline=None, stage=None, robot: Robot | None = None, for_leads: bool = False,
                 **kwargs):
        super().__init__(*args, **kwargs)
        from okno.outbox.models import MessageTemplate, WebhookEndpoint

        self.pipeline, self.stage, self.robot, self.for_leads = pipeline, stage, robot, for_leads
        users = [("", "—")] + [(u.pk, u.display_name) for u in
                               User.objects.filter(is_active=True).order_by("last_name", "username")]
        departments = [("", "—")] + [(d.pk, d.name) for d in Department.objects.order_by("name")]
        stages = [("", "—")] + ([(s.pk, s.name) for s in pipeline.stages.order_by("position", "id")
                                 if stage is None or s.pk != stage.pk] if pipeline is not None else [])
        self.fields["escalation_user"].choices = self.fields["user"].choices = users
        self.fields["escalation_department"].choices = self.fields["department"].choices = departments
        self.fields["scope_department"].choices = [("", _("every department"))] + departments[1:]
        self.fields["escalation_stage"].choices = self.fields["stage"].choices = stages
        self.fields["assignee"].choices = [("responsible", _("the deal's responsible"))] + users[1:]
        parents = Robot.objects.filter(kind=Robot.Kind.DEADLINE, parent__isnull=True)
        parents = parents.filter(for_leads=True) if for_leads else parents.filter(stage=stage)
        if robot is not None:
            parents = parents.exclude(pk=robot.pk)
        self.fields["parent"].choices = [("", _("— (first level)"))] + [(r.pk, str(r)) for r in parents]
        templates = MessageTemplate.objects.order_by("name")
        self.fields["template"].choices = [("", "—")] + [(t.pk, f"{t.name} ({t.get_channel_display()})")
                                                         for t in templates]
        self.fields["endpoint"].choices = [("", "—")] + [(e.pk, e.description or e.url)
                                                         for e in WebhookEndpoint.objects.order_by("pk")]
        custom = [(f"custom.{f.key}", f.label) for f in pipeline.fields.all()] if pipeline is not None else []
        self.fields["when_field"].choices = [(f, FIELD_LABELS[f]) for f in CONDITION_FIELDS] + custom
        for extra in ACTION_FIELDS:
            self.fields[extra.name] = extra.make()
        if for_leads:
            self.fields["trigger"].choices = [c for c in Robot.Trigger.choices if c[0] in ("enter", "after")]
            self.fields["action"].choices = [c for c in Robot.Action.choices
                                             if c[0] in ("notify_responsible", "change_responsible", "webhook")]
            self.fields["escalation"].choices = [c for c in Robot.Escalation.choices if c[0] != "move"]
        if robot is not None and not self.is_bound:
            self.initial.update(self.initial_of(robot))

    @staticmethod
    def initial_of(robot: Robot) -> dict:
        out = {"kind": robot.kind, "name": robot.name, "is_active": robot.is_active,
               "scope_department": robot.department_id}
        if robot.kind == Robot.Kind.DEADLINE:
            amount, unit = _split(robot.within) if robot.within else (None, "M")
            p = robot.escalation_params or {}
            out.update(deadline_mode="end_of_working_day" if robot.until else "within", within_amount=amount,
                       within_unit=unit, time=robot.time, escalation=robot.escalation,
                       escalation_user=p.get("user_id"), escalation_department=p.get("department_id"),
                       escalation_stage=p.get("stage_id"), parent=robot.parent_id)
            return out
        t, a = robot.trigger_params or {}, robot.action_params or {}
        after_amount, after_unit = _split(t["after"]) if t.get("after") else (None, "H")
        due_amount, due_unit = _split(a["due"]) if a.get("due") else (None, "H")
        out.update(trigger=robot.trigger, after_amount=after_amount, after_unit=after_unit,
                   after_time=t.get("time", "working"), at=t.get("at", ""), when_field=t.get("field"),
                   when_op=t.get("op"), when_value="" if t.get("value") is None else t.get("value"),
                   event=t.get("event"), action=robot.action, text=a.get("text", ""),
                   template=a.get("template_id") if robot.action in ("email_customer", "sms_customer") else None,
                   title=a.get("title", ""), due_amount=due_amount, due_unit=due_unit,
                   assignee=a.get("assignee", "responsible"), user=a.get("user_id"),
                   department=a.get("department_id"), stage=a.get("stage_id"),
                   endpoint=None if a.get("url") else a.get("endpoint_id"), url=a.get("url", ""),
                   register_name=a.get("register_name", ""))
        for extra in ACTION_FIELDS:
            if robot.action in extra.actions:
                out[extra.name] = a.get(extra.param)
        return out

    @property
    def action_fields(self) -> list[tuple]:
        """The registered actions' fields with the template's data-show rule for each."""
        return [(self[f.name], "action:" + ",".join(f.actions)) for f in ACTION_FIELDS]

    def field_for(self, error_name: str) -> str | None:
        """The form field a rules' error name ("action.template_id") is shown on; a registered
        action's own field first, as its parameters may share a name with a built-in one."""
        action = getattr(self, "cleaned_data", {}).get("action")
        for f in ACTION_FIELDS:
            if action in f.actions and error_name == f"action.{f.param}":
                return f.name
        name = FORM_FIELD.get(error_name)
        return name if name in self.fields else None

    def to_data(self) -> dict:
        """The API's shape of what was filled in (only the chosen type's fields)."""
        c = self.cleaned_data
        data: dict = {"kind": c["kind"], "name": c.get("name") or "", "is_active": bool(c.get("is_active"))}
        if self.for_leads:
            data.update(for_leads=True, department_id=c.get("scope_department"))
        else:
            data["stage_id"] = self.stage.pk
        if c["kind"] == Robot.Kind.DEADLINE:
            if c.get("deadline_mode") == "end_of_working_day":
                data["until"] = "end_of_working_day"
            else:
                data["within"] = _duration(c.get("within_amount"), c.get("within_unit") or "M") or ""
            data["time"] = c.get("time") or Robot.Time.WORKING
            action = c.get("escalation") or ""
            if action:
                escalate = {"action": action}
                if action == Robot.Escalation.REASSIGN:
                    if c.get("escalation_department"):
                        escalate["department_id"] = c["escalation_department"]
                    else:
                        escalate["user_id"] = c.get("escalation_user")
                elif action == Robot.Escalation.MOVE:
                    escalate["stage_id"] = c.get("escalation_stage")
                data["escalate"] = escalate
            else:
                data["escalate"] = None
            data["parent_id"] = c.get("parent")
            return data
        trigger = c.get("trigger") or Robot.Trigger.ENTER
        data["trigger"] = {
            "enter": lambda: {"on": "enter"},
            "after": lambda: {"after": _duration(c.get("after_amount"), c.get("after_unit") or "H") or "",
                              "time": c.get("after_time") or "working"},
            "at": lambda: {"at": c.get("at") or ""},
            "when": lambda: {"when": {"field": c.get("when_field"), "op": c.get("when_op"),
                                      "value": c.get("when_value")}},
            "event": lambda: {"event": c.get("event")},
        }[trigger]()
        kind = c.get("action") or ""
        action: dict = {"type": kind}
        if kind == "notify_responsible":
            action["text"] = c.get("text") or ""
        elif kind in ("email_customer", "sms_customer"):
            action["template_id"] = c.get("template")
        elif kind == "create_work_item":
            assignee = c.get("assignee") or "responsible"
            action.update(title=c.get("title") or "", due=_duration(c.get("due_amount"), c.get("due_unit") or "H")
                          or "PT1H", assignee=assignee if assignee == "responsible" else int(assignee))
        elif kind == "change_responsible":
            if c.get("department"):
                action["department_id"] = c["department"]
            else:
                action["user_id"] = c.get("user")
        elif kind == "move_to_stage":
            action["stage_id"] = c.get("stage")
        elif kind == "webhook":
            if c.get("url"):
                action["url"] = c["url"]
            else:
                action["endpoint_id"] = c.get("endpoint")
        elif kind == "register":
            action["register_name"] = c.get("register_name") or ""
        for extra in ACTION_FIELDS:
            if kind in extra.actions:
                action[extra.param] = c.get(extra.name)
        data["action"] = action
        return data
