from django.db import models
from django.utils.translation import gettext_lazy as _


class Calendar(models.Model):
    """A business calendar: working hours per weekday in a time zone, the country's production
    calendar (public holidays, transferred days off, working Saturdays, from the `holidays`
    package) and the company's own extra days off or on. okno.core.calendar computes on it."""

    name = models.CharField(_("name"), max_length=200)
    timezone = models.CharField(_("time zone"), max_length=64, default="Europe/Moscow")
    # {"mon": "09:00-18:00", "tue": "09:00-13:00,14:00-18:00", ...}; a day not named is closed.
    hours = models.JSONField(_("working hours"), default=dict, blank=True)
    # ISO 3166 code the production calendar comes from ("RU", "KZ", "BY", "UZ"); empty: none.
    country = models.CharField(_("country"), max_length=2, blank=True, default="RU")
    # ISO dates, the company's own exceptions to the country's calendar.
    extra_days_off = models.JSONField(_("extra days off"), default=list, blank=True)
    extra_working_days = models.JSONField(_("extra working days"), default=list, blank=True)
    # The company's calendar: what a pipeline or department without one counts on.
    is_default = models.BooleanField(_("company default"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        # The company default is cached per process (okno.core.calendar); forget it on any save.
        from okno.core.calendar import invalidate_cache

        invalidate_cache()

    def delete(self, *args, **kwargs):
        result = super().delete(*args, **kwargs)
        from okno.core.calendar import invalidate_cache

        invalidate_cache()
        return result
