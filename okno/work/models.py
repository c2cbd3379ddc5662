from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class WorkItem(models.Model):
    """A unit of a manager's work with a deadline: what the manager screen will serve.

    Kinds so far: `callback` (a missed call to return), `task` (a robot's to-do on a deal). A
    repeat of the same reason (the same number calling again) folds into the open item instead
    of making another.
    """

    class Kind(models.TextChoices):
        CALLBACK = "callback", _("callback")
        # A to-do a robot made for a deal (create_work_item), with its title; a deal's deadline.
        TASK = "task", _("task")
        NEW_LEAD = "new_lead", _("new lead")
        FOLLOW_UP = "follow_up", _("follow-up")
        PAYMENT_CONTROL = "payment_control", _("payment control")
        # A dormant customer to win back: made by Next after a long break (okno/work/queue.py).
        REACTIVATION = "reactivation", _("reactivation")

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        DONE = "done", _("done")

    kind = models.CharField(max_length=32, choices=Kind.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    contact = models.ForeignKey("contacts.Contact", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="work_items")
    # What the item is about when it is not a card yet: the number to call back.
    number = models.CharField(max_length=64, blank=True)
    title = models.CharField(_("title"), max_length=300, blank=True)
    lead = models.ForeignKey("deals.Lead", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    deal = models.ForeignKey("deals.Deal", null=True, blank=True, on_delete=models.CASCADE, related_name="work_items")
    # payment_control: the invoice not paid by its due date (closed when it is paid).
    invoice = models.ForeignKey("invoices.Invoice", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="work_items")
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="work_items")
    department = models.ForeignKey("people.Department", null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    due_at = models.DateTimeField(_("due"))
    # How many times the reason recurred while the item was open (missed calls from the number).
    repeats = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(fields=["kind", "number"], name="work_item_open_number",
                         condition=models.Q(status="open")),
            models.Index(fields=["assignee", "status", "due_at"]),
            # The department's queue: unassigned open items by kind, earliest due first (Next).
            models.Index(fields=["department", "kind", "due_at"], name="work_item_queue",
                         condition=models.Q(status="open", assignee__isnull=True)),
            # The process report: a period's callbacks, and (its rollup) those not closed before
            # a day was built.
            models.Index(fields=["kind", "created_at"], name="work_item_kind_created"),
            models.Index(fields=["closed_at"], name="work_item_closed_at"),
        ]
        constraints = [
            # Two managers back from a break never win back the same customer (okno/work/queue.py).
            models.UniqueConstraint(fields=["contact"], name="work_item_one_open_reactivation",
                                    condition=models.Q(status="open", kind="reactivation")),
            # An overdue invoice is chased by one item at a time, however often the sweep runs.
            models.UniqueConstraint(fields=["invoice"], name="work_item_one_open_payment_control",
                                    condition=models.Q(status="open", kind="payment_control")),
        ]


DEFAULT_PRIORITIES = {"callback": 1, "new_lead": 2, "task": 3, "follow_up": 4, "payment_control": 5,
                      "reactivation": 6}


class DepartmentWorkSettings(models.Model):
    """A department's queue rules: rank per kind (1 first), a person's daily cap, the longest
    break before Next serves a dormant customer, when a customer counts as dormant, and the
    retry after "no answer". A department without a row uses the defaults."""

    department = models.OneToOneField("people.Department", on_delete=models.CASCADE, related_name="work_settings")
    priorities = models.JSONField(default=dict)
    daily_capacity = models.PositiveIntegerField(default=40)
    max_break_minutes = models.PositiveIntegerField(default=15)
    dormant_after_days = models.PositiveIntegerField(default=90)
    retry_minutes = models.PositiveIntegerField(default=60)
    # After an outcome the manager screen waits this long (wrap-up: notes, the follow-up) before
    # serving the next item; the board shows it as wrap-up.
    wrap_up_seconds = models.PositiveIntegerField(default=30)
    # On: the department's managers do not browse its queue on "My work" nor take from it; its
    # items come to them only by Next (heads and administrators keep the queue). Off: anyone of
    # the department may take (issue 15's "My work").
    next_only = models.BooleanField(
        _("Managers take queue items only by Next"), default=False,
        help_text=_("Managers do not see the department's queue on “My work” and cannot take from it; "
                    "Next on the manager screen serves them. Heads and administrators still see and assign it."))

    def rank(self) -> dict[str, int]:
        return {**DEFAULT_PRIORITIES, **(self.priorities or {})}


class ManagerShift(models.Model):
    """When a manager last closed an item: the max-break rule reads it on every Next."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+",
                                primary_key=True)
    last_closed_at = models.DateTimeField(null=True, blank=True)

from okno.work.models_dialer import DialAttempt, DialerSettings  # noqa: E402,F401  (issue 18: auto-dialer)
from okno.work.models_states import AgentState, AgentStateEvent, AgentStatus  # noqa: E402,F401  (issue 18: states)
