"""The progressive auto-dialer's rows: a department's dialer settings and each dial attempt.

An attempt is one call Okno places for one operator and one item: made `pending` when the
operator is free (idle), claimed `dialing` by the worker under a lease, and finished once with
the PBX's answer. At most one attempt in flight per operator and per item (partial unique
indexes): a second worker, a second click or a retry can never ring a customer twice or leave
an answered customer with nobody to talk to.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

IN_FLIGHT = ("pending", "dialing")


class DialerSettings(models.Model):
    """A call-centre department's auto-dialer: on or off, the PBX line it dials through, how many
    calls that line carries at once, how long a customer's phone rings, and how many tries an item
    gets before it is closed as not reached. Retries wait the department's `retry_minutes`."""

    department = models.OneToOneField("people.Department", on_delete=models.CASCADE, related_name="dialer_settings")
    enabled = models.BooleanField(_("auto-dialer on"), default=False)
    channel = models.ForeignKey("inbox.Channel", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    lines = models.PositiveIntegerField(_("lines"), default=10)
    ring_seconds = models.PositiveIntegerField(_("ring time, seconds"), default=30)
    max_attempts = models.PositiveIntegerField(_("tries per item"), default=3)


class DialAttempt(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("waiting to dial")
        DIALING = "dialing", _("dialing")
        ANSWERED = "answered", _("answered")
        NO_ANSWER = "no_answer", _("no answer")
        BUSY = "busy", _("busy")
        FAILED = "failed", _("failed")

    item = models.ForeignKey("work.WorkItem", on_delete=models.CASCADE, related_name="+")
    operator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    department = models.ForeignKey("people.Department", null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    channel = models.ForeignKey("inbox.Channel", on_delete=models.PROTECT, related_name="+")
    extension = models.CharField(max_length=64)
    number = models.CharField(max_length=64)
    command_id = models.CharField(max_length=64, unique=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    dialed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The worker's lease on a dialing attempt: past it, the worker is presumed gone.
    locked_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "locked_until"], name="dial_attempt_status")]
        constraints = [
            models.UniqueConstraint(fields=["operator"], name="dial_one_per_operator",
                                    condition=Q(status__in=IN_FLIGHT)),
            models.UniqueConstraint(fields=["item"], name="dial_one_per_item", condition=Q(status__in=IN_FLIGHT)),
        ]
