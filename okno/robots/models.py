"""Robots: what happens to a deal in a stage (or to a new lead) without anyone clicking.

A robot belongs to a stage of a pipeline (or to leads) and is either a **deadline** ("leave this
stage within PT30M of working time", escalating when missed) or an **action** (a trigger and
what it does). Settings are data edited in forms; `trigger_params`, `action_params` and
`escalation_params` are validated per type by okno.robots.rules, never typed by people as JSON.
Deadline rows, runs and registers live in okno.robots.models_runs.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Robot(models.Model):
    class Kind(models.TextChoices):
        DEADLINE = "deadline", _("deadline")
        ACTION = "action", _("action")

    class Time(models.TextChoices):
        WORKING = "working", _("working time")
        WALL = "wall", _("wall-clock time")

    class Until(models.TextChoices):
        END_OF_WORKING_DAY = "end_of_working_day", _("by the end of the working day")

    class Escalation(models.TextChoices):
        NONE = "", _("none")
        NOTIFY_HEAD = "notify_head", _("notify the department head")
        REASSIGN = "reassign", _("reassign")
        MOVE = "move", _("move to a stage")

    class Trigger(models.TextChoices):
        ENTER = "enter", _("on entering the stage")
        AFTER = "after", _("after a delay")
        AT = "at", _("at a time of day")
        WHEN = "when", _("when a condition on the deal's fields becomes true")
        EVENT = "event", _("on an event")

    class Action(models.TextChoices):
        NOTIFY_RESPONSIBLE = "notify_responsible", _("notify the responsible")
        EMAIL_CUSTOMER = "email_customer", _("e-mail the customer from a template")
        SMS_CUSTOMER = "sms_customer", _("SMS the customer from a template")
        CREATE_WORK_ITEM = "create_work_item", _("create a work item")
        CHANGE_RESPONSIBLE = "change_responsible", _("change the responsible")
        MOVE_TO_STAGE = "move_to_stage", _("move to a stage")
        WEBHOOK = "webhook", _("call an outbound webhook")
        REGISTER = "register", _("record the deal in a register")
        # Run by okno.documents (registered into actions.DEAL_ACTIONS and rules.ACTION_CLEAN).
        GENERATE_DOCUMENT = "generate_document", _("generate a document")
        SEND_DOCUMENT = "send_document", _("generate a document and send it by e-mail")

    pipeline = models.ForeignKey("deals.Pipeline", null=True, blank=True, on_delete=models.CASCADE,
                                 related_name="robots", verbose_name=_("pipeline"))
    # Empty for lead robots.
    stage = models.ForeignKey("deals.Stage", null=True, blank=True, on_delete=models.CASCADE,
                              related_name="robots", verbose_name=_("stage"))
    for_leads = models.BooleanField(_("for leads"), default=False)
    # Lead robots: the department whose new leads it watches; empty: every department.
    department = models.ForeignKey("people.Department", null=True, blank=True, on_delete=models.CASCADE,
                                   related_name="+", verbose_name=_("department"))
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=200, blank=True)
    position = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(_("active"), default=True)

    # Deadline: `within` (an ISO 8601 duration) or `until` (end_of_working_day).
    within = models.CharField(_("within"), max_length=32, blank=True)
    until = models.CharField(_("until"), max_length=32, blank=True, choices=Until.choices)
    time = models.CharField(_("counted in"), max_length=8, choices=Time.choices, default=Time.WORKING)
    escalation = models.CharField(_("when missed"), max_length=16, blank=True, choices=Escalation.choices)
    # reassign: {"user_id"} or {"department_id"} (round robin); move: {"stage_id"}.
    escalation_params = models.JSONField(default=dict, blank=True)
    # A level-2 deadline counts from the level-1 miss.
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="children",
                               verbose_name=_("after the miss of"))

    # Action: trigger and what it does.
    trigger = models.CharField(_("trigger"), max_length=16, blank=True, choices=Trigger.choices)
    # after: {"after": "PT1H", "time": "working"}; at: {"at": "10:00"};
    # when: {"field", "op", "value"}; event: {"event": "message.received"}.
    trigger_params = models.JSONField(default=dict, blank=True)
    action = models.CharField(_("action"), max_length=32, blank=True, choices=Action.choices)
    action_params = models.JSONField(default=dict, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "id"]
        indexes = [models.Index(fields=["stage", "kind"]), models.Index(fields=["for_leads", "kind"])]

    def __str__(self) -> str:
        return self.name or f"{self.get_kind_display()} #{self.pk}"

    @property
    def level(self) -> int:
        return 2 if self.parent_id else 1


from okno.robots.models_runs import Deadline, RegisterEntry, RobotRun  # noqa: E402, F401
