"""What an assignee must notice: their unread leads, in the app and, if left unread, by e-mail.

In the app the top bar polls a small fragment (htmx, every few seconds); an unread lead left
longer than `OKNO_LEAD_REMIND_MINUTES` is e-mailed once by the worker's `lead_reminders` drain.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.mail import send_mail
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from okno.deals.models import Lead
from okno.people.models import User

log = logging.getLogger(__name__)
REMINDER_BATCH = 100


def leads_assigned(*, user: User) -> QuerySet[Lead]:
    """The user's open leads, newest first: the "My leads" page."""
    return (Lead.objects.filter(assignee=user, status__in=Lead.OPEN)
            .select_related("contact", "channel").order_by("-created_at", "-id"))


def leads_unread(*, user: User) -> QuerySet[Lead]:
    return leads_assigned(user=user).filter(read_at__isnull=True)


def _own(actor: User, lead: Lead) -> None:
    if lead.assignee_id != actor.pk and not actor.is_admin:
        raise PermissionDenied("not your lead")


def lead_mark_read(*, actor: User, lead: Lead) -> Lead:
    """The assignee has seen the lead: no more badge, no reminder e-mail."""
    _own(actor, lead)
    if lead.read_at is None:
        lead.read_at = timezone.now()
        Lead.objects.filter(pk=lead.pk, read_at__isnull=True).update(read_at=lead.read_at)
    return lead


def lead_take_in_work(*, actor: User, lead: Lead) -> Lead:
    """The assignee starts on the lead: read, and in work."""
    _own(actor, lead)
    lead_mark_read(actor=actor, lead=lead)
    if lead.status == Lead.Status.NEW:
        lead.status = Lead.Status.IN_WORK
        Lead.objects.filter(pk=lead.pk, status=Lead.Status.NEW).update(status=Lead.Status.IN_WORK,
                                                                        updated_at=timezone.now())
    return lead


def _send_reminder(lead: Lead) -> None:
    url = settings.SITE_URL.rstrip("/") + reverse("contacts:card", args=[lead.contact_id])
    with override(settings.LANGUAGE_CODE):
        subject = _("Unread lead: %(title)s") % {"title": lead.title or lead.contact}
        body = _("A lead assigned to you on %(created)s is still unread.\n\nCustomer: %(contact)s\n"
                 "Source: %(source)s\nOpen the card: %(url)s\nYour leads: %(leads)s") % {
            "created": timezone.localtime(lead.created_at).strftime("%Y-%m-%d %H:%M"), "contact": lead.contact,
            "source": lead.source or "—", "url": url,
            "leads": settings.SITE_URL.rstrip("/") + reverse("deals:leads")}
    send_mail(subject, body, None, [lead.assignee.email])


def lead_reminders(batch: int = REMINDER_BATCH) -> int:
    """The worker's drain: e-mails each assignee whose lead stayed unread too long, once per lead.

    Each lead is claimed by a conditional UPDATE of `reminded_at` (one row changed = ours), so two
    workers never send the same reminder; a failed send releases the claim for the next pass.
    """
    now = timezone.now()
    due = Lead.objects.filter(
        status__in=Lead.OPEN, assignee__isnull=False, read_at__isnull=True, reminded_at__isnull=True,
        created_at__lte=now - timedelta(minutes=settings.OKNO_LEAD_REMIND_MINUTES),
    ).order_by("created_at").values_list("pk", flat=True)[:batch]
    claimed = 0
    for pk in list(due):
        if Lead.objects.filter(pk=pk, reminded_at__isnull=True).update(reminded_at=now) != 1:
            continue  # another worker claimed it
        claimed += 1
        lead = Lead.objects.select_related("assignee", "contact").get(pk=pk)
        if not lead.assignee.email:
            continue  # nobody to write to; claimed anyway so it is not looked at again
        try:
            _send_reminder(lead)
        except Exception:  # the mail server is down: release the claim, try on a later pass
            log.exception("lead reminder %s not sent", pk)
            Lead.objects.filter(pk=pk).update(reminded_at=None)
            break
    return claimed
