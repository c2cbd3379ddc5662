from django.db import models
from django.utils.translation import gettext_lazy as _

DEFAULT_SUCCESS_THRESHOLD_SECONDS = 20
DEFAULT_CALLBACK_WINDOW_MINUTES = 30
DEFAULT_UNANSWERED_MIN_STAY_SECONDS = 60


class AnalyticsSettings(models.Model):
    """The company's rules for the reports: one row (pk=1), made with the defaults when first read.

    Reports are computed from the calls when asked, so a changed threshold re-counts history at once.
    """

    success_threshold_seconds = models.PositiveIntegerField(
        _("successful call from (seconds of talk)"), default=DEFAULT_SUCCESS_THRESHOLD_SECONDS)
    callback_window_minutes = models.PositiveIntegerField(
        _("called back within (minutes)"), default=DEFAULT_CALLBACK_WINDOW_MINUTES)
    # What counts as an unanswered request (the process report): a visitor who left without a reply
    # within this many seconds of writing is counted apart ("left at once"), not as unanswered.
    unanswered_min_stay_seconds = models.PositiveIntegerField(
        _("a visitor who left within (seconds) is not unanswered"), default=DEFAULT_UNANSWERED_MIN_STAY_SECONDS)
    # Whether a message left while nobody was online (Jivo's offline message) counts as unanswered.
    unanswered_counts_offline = models.BooleanField(_("offline messages count as unanswered"), default=True)
    updated_at = models.DateTimeField(auto_now=True)


class DepartmentThreshold(models.Model):
    """A department's own success threshold (a support line's calls are shorter than sales')."""

    department = models.OneToOneField("people.Department", on_delete=models.CASCADE, related_name="+")
    success_threshold_seconds = models.PositiveIntegerField(_("successful call from (seconds of talk)"))
from okno.analytics.models_boards import ReportKind, ReportViewer, SavedReport, TeamBoard  # noqa: E402,F401
from okno.analytics.models_rollup import (  # noqa: E402,F401
    CallStat,
    CallStatCursor,
    CallStatMark,
    CallStatSpan,
    ChatStat,
    ChatStatCursor,
    ChatStatMark,
    ChatStatSpan,
    ProcessStat,
    ProcessStatCursor,
    ProcessStatMark,
    ProcessStatRow,
    ProcessStatRowMark,
    ProcessStatSpan,
)
