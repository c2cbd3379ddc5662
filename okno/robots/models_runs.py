"""What robots did and must still do: open deadlines, runs of actions, registers.

Deadline and RobotRun are durable work rows (status, attempts, locked_until, run_after) drained
by the worker (okno.robots.drains) with okno.core.leases.claim_batch.
"""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Deadline(models.Model):
    """One deadline robot's clock for one stay of a deal in a stage (or one new lead)."""

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        MET = "met", _("met")
        MISSED = "missed", _("missed")

    robot = models.ForeignKey("robots.Robot", on_delete=models.CASCADE, related_name="deadlines")
    deal = models.ForeignKey("deals.Deal", null=True, blank=True, on_delete=models.CASCADE, related_name="deadlines")
    lead = models.ForeignKey("deals.Lead", null=True, blank=True, on_delete=models.CASCADE, related_name="deadlines")
    stage = models.ForeignKey("deals.Stage", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    level = models.PositiveSmallIntegerField(default=1)
    due_at = models.DateTimeField(_("due"))
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    # When it was met, or when its miss was acted on.
    closed_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    # = due_at when opened: the drain claims by run_after (claim_batch's contract).
    run_after = models.DateTimeField()
    locked_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [
            # The drain's due rows: open ones are a sliver of a table of met and missed ones.
            models.Index(fields=["run_after"], name="deadline_open_due", condition=models.Q(status="open")),
            models.Index(fields=["deal", "status"]),
            models.Index(fields=["lead", "status"]),
            # The process report's rollup: the deadlines decided since a day was built.
            models.Index(fields=["closed_at"], name="deadline_closed_at", condition=models.Q(closed_at__isnull=False)),
        ]


class RobotRun(models.Model):
    """One action of a robot for one deal (or lead): queued, run, retried, logged."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        SKIPPED = "skipped", _("skipped")
        FAILED = "failed", _("failed")
        WAITING = "waiting", _("waiting for a person")

    PROBLEMS = (Status.FAILED, Status.WAITING)

    robot = models.ForeignKey("robots.Robot", on_delete=models.CASCADE, related_name="runs")
    deal = models.ForeignKey("deals.Deal", null=True, blank=True, on_delete=models.CASCADE, related_name="robot_runs")
    lead = models.ForeignKey("deals.Lead", null=True, blank=True, on_delete=models.CASCADE, related_name="robot_runs")
    # The stage the run belongs to (a delayed run of a stage the deal left is skipped).
    stage = models.ForeignKey("deals.Stage", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    # What caused it, unique per robot and deal: a stage entry ("12:1733212800.123456"), an
    # escalation ("deadline:5"), an event ("message.received:77"). A run is never doubled.
    entry = models.CharField(max_length=100)
    # "action" or "escalation" (a missed deadline's).
    purpose = models.CharField(max_length=16, default="action")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    due_at = models.DateTimeField(_("due"))
    run_after = models.DateTimeField()
    attempts = models.PositiveIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)
    result = models.CharField(max_length=500, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["run_after"], name="robot_run_pending", condition=models.Q(status="pending")),
            models.Index(fields=["deal", "-created_at"]),
            models.Index(fields=["status", "-id"], name="robot_run_problems",
                         condition=models.Q(status__in=["failed", "waiting"])),
        ]
        constraints = [
            models.UniqueConstraint(fields=["robot", "deal", "entry"], name="robot_run_once",
                                    condition=models.Q(deal__isnull=False)),
            models.UniqueConstraint(fields=["robot", "lead", "entry"], name="robot_run_once_lead",
                                    condition=models.Q(lead__isnull=False)),
        ]


class RegisterEntry(models.Model):
    """A deal recorded in a named register (the register of confirmed orders): exportable."""

    name = models.CharField(_("register"), max_length=100)
    deal = models.ForeignKey("deals.Deal", on_delete=models.CASCADE, related_name="register_entries")
    at = models.DateTimeField(default=timezone.now)
    snapshot = models.JSONField(default=dict)

    class Meta:
        ordering = ["name", "at", "id"]
        constraints = [models.UniqueConstraint(fields=["name", "deal"], name="register_entry_once")]
