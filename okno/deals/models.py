from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Lead(models.Model):
    """A customer's request that a person must take up: made by every new conversation."""

    class Status(models.TextChoices):
        NEW = "new", _("new")
        IN_WORK = "in_work", _("in work")
        CONVERTED = "converted", _("converted to a deal")
        LOST = "lost", _("lost")

    OPEN = (Status.NEW, Status.IN_WORK)

    contact = models.ForeignKey("contacts.Contact", on_delete=models.PROTECT, related_name="leads")
    channel = models.ForeignKey("inbox.Channel", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    conversation = models.ForeignKey(
        "inbox.Conversation", null=True, blank=True, on_delete=models.SET_NULL, related_name="leads"
    )
    title = models.CharField(_("title"), max_length=300, blank=True)
    source = models.CharField(_("source"), max_length=100, blank=True)
    utm = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.NEW, db_index=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="leads",
        verbose_name=_("assignee"),
    )
    department = models.ForeignKey(
        "people.Department", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # How the assignee was chosen: "responsible", "round_robin", "fallback" or "unassigned".
    routed_by = models.CharField(max_length=16, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    read_at = models.DateTimeField(null=True, blank=True)
    # Why it was closed as lost (status LOST), and when it was converted or lost.
    lost_reason = models.ForeignKey("deals.LostReason", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    closed_at = models.DateTimeField(null=True, blank=True)
    # When the unread lead was e-mailed to its assignee; claimed by conditional UPDATE, so once.
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["contact", "status"]),
            # The reminder drain's due leads: a sliver of a table that grows by every inbound
            # conversation, found without walking all the read and reminded ones.
            models.Index(fields=["created_at"], name="lead_remind_due",
                         condition=models.Q(read_at__isnull=True, reminded_at__isnull=True)),
            # The department's queue of unassigned open leads: counted in every page's sidebar.
            models.Index(fields=["department"], name="lead_unassigned_open",
                         condition=models.Q(assignee__isnull=True, status__in=["new", "in_work"])),
            # The process report's rollup: the leads not closed before a day was built, read live.
            models.Index(fields=["closed_at"], name="lead_closed_at"),
        ]


# Pipelines and deals live in their own module; Django finds models through this one.
from okno.deals.models_deals import (  # noqa: E402, F401
    Deal,
    DealLineItem,
    DealStageChange,
    LostReason,
    Pipeline,
    PipelineField,
    Stage,
)
from okno.deals.models_suppliers import Supplier  # noqa: E402, F401
