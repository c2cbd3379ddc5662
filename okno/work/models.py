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
        # A to-do a robot made for a deal (create_work_item), with its title.
        TASK = "task", _("task")

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
    deal = models.ForeignKey("deals.Deal", null=True, blank=True, on_delete=models.CASCADE, related_name="work_items")
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
        ]
