"""Reports shared and kept: a department's team board, a user's saved reports and who has a report
open right now (whom a finished call's "reports changed" push goes to, okno/analytics/live.py)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ReportKind(models.TextChoices):
    CALLS = "calls", _("calls")
    CHATS = "chats", _("chats")
    PROCESS = "process", _("process")


class TeamBoard(models.Model):
    """A figure a department shows all its members (missed calls by employee): what everyone sees,
    everyone works on. A head of the department (or an administrator) sets it up."""

    class Period(models.TextChoices):
        TODAY = "today", _("today")
        WEEK = "week", _("this week")
        MONTH = "month", _("this month")

    department = models.ForeignKey("people.Department", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("report"), max_length=16, choices=ReportKind.choices, default=ReportKind.CALLS)
    # A figure of the report's rows (okno/analytics/boards.py METRICS), counted per employee.
    metric = models.CharField(_("figure"), max_length=32)
    period = models.CharField(_("period"), max_length=16, choices=Period.choices, default=Period.TODAY)
    published = models.BooleanField(_("published to the department"), default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["department", "published"])]

    def __str__(self) -> str:
        return self.name


class SavedReport(models.Model):
    """A report's parameters a user keeps under a name (the query string, as the page's URL has it)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("report"), max_length=16, choices=ReportKind.choices)
    query = models.CharField(_("parameters"), max_length=2000, blank=True)
    # The weekly digest: off by default (an e-mail nobody asked for is how people learn to ignore them).
    weekly_digest = models.BooleanField(_("e-mail it to me weekly"), default=False)
    # The Monday the digest last went out for: a drain run twice in a week sends it once.
    digest_sent_for = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "name"], name="saved_report_name_once")]
        indexes = [models.Index(fields=["weekly_digest", "digest_sent_for"])]

    def __str__(self) -> str:
        return self.name


class ReportViewer(models.Model):
    """A user has a report (topic "reports") or a team board ("board:<id>") open until `until`:
    the page says so every few minutes. Pushes about finished calls go to these users only."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    topic = models.CharField(max_length=32)
    until = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "topic"], name="report_viewer_once")]
