"""A manager's state (idle, on a call, wrap-up, break, offline) and its history.

The current state is one row per person (`AgentState`, what the supervisor board and the
auto-dialer read); every change also closes the previous `AgentStateEvent` and opens the next,
so handle time (on a call + wrap-up per item) and break time can be summed for any period.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AgentStatus(models.TextChoices):
    IDLE = "idle", _("idle")
    ON_CALL = "on_call", _("on a call")
    WRAP_UP = "wrap_up", _("wrap-up")
    BREAK = "break", _("break")
    OFFLINE = "offline", _("offline")


class AgentState(models.Model):
    """What a manager is doing now, since when, and on which item (on a call, wrap-up)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+",
                                primary_key=True)
    state = models.CharField(max_length=16, choices=AgentStatus.choices, default=AgentStatus.OFFLINE)
    since = models.DateTimeField()
    item = models.ForeignKey("work.WorkItem", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        indexes = [models.Index(fields=["state", "since"], name="work_agent_state_free")]


class AgentStateEvent(models.Model):
    """One stretch of one state: open (`ended_at` null) while it lasts."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    state = models.CharField(max_length=16, choices=AgentStatus.choices)
    item = models.ForeignKey("work.WorkItem", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "started_at"], name="work_agent_event_user")]
