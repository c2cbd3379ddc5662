"""Click-to-call: a manager presses a number; the PBX rings the manager's phone, then the customer.

The request is a row (CallRequest) sent by the worker's `call_requests` drain through the PBX
adapter's `originate`, retried with back-off when the PBX is unreachable. The call itself lands
on the card like any other, from the PBX's own events.
"""

import logging
import secrets
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from okno.contacts.models import Contact
from okno.core.errors import ApiError, FieldError
from okno.core.leases import claim_batch
from okno.core.phones import InvalidPhone, normalize_phone
from okno.inbox import adapters
from okno.inbox.adapters.base import SendFailed
from okno.people.models import User
from okno.people.visibility import contact_visibility_q
from okno.telephony.models import CallRequest, PbxExtension

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5
LEASE_SECONDS = 60


def call_request(*, actor: User, contact_id: int | None = None, number: str = "") -> CallRequest:
    """Queues a call from the actor's extension to the customer (their first phone, or `number`)."""
    contact = None
    if contact_id is not None:
        contact = Contact.objects.filter(contact_visibility_q(actor), pk=contact_id,
                                         status=Contact.Status.ACTIVE).first()
        if contact is None:
            raise ApiError("No such contact", status=404)
        if not number:
            phone = contact.phones.order_by("id").first()
            if phone is None:
                raise FieldError({"contact_id": "the contact has no phone number"})
            number = phone.e164
    if not number:
        raise FieldError({"number": "give contact_id or number"})
    try:
        e164 = normalize_phone(number).e164
    except InvalidPhone as exc:
        raise FieldError({"number": str(exc)}) from exc
    extension = (PbxExtension.objects.filter(user=actor, channel__is_active=True)
                 .select_related("channel").order_by("pk"))
    extension = next((e for e in extension if getattr(adapters.get(e.channel.kind), "can_originate", False)), None)
    if extension is None:
        raise FieldError({"extension": "you have no extension on a PBX that can place calls"})
    return CallRequest.objects.create(channel=extension.channel, requested_by=actor, extension=extension.code,
                                      number=e164, contact=contact, command_id=f"okno-{secrets.token_hex(12)}")


def _send(request: CallRequest) -> None:
    adapter = adapters.get(request.channel.kind)
    now = timezone.now()
    try:
        adapter.originate(request.channel, extension=request.extension, number=request.number,
                          command_id=request.command_id)
    except SendFailed as exc:
        final = not exc.retry or request.attempts >= MAX_ATTEMPTS
        CallRequest.objects.filter(pk=request.pk).update(
            status=CallRequest.Status.FAILED if final else CallRequest.Status.PENDING, error=str(exc)[:2000],
            locked_until=None, run_after=now + timedelta(seconds=min(5 * 2 ** request.attempts, 300)))
        return
    CallRequest.objects.filter(pk=request.pk).update(status=CallRequest.Status.SENT, sent_at=now, locked_until=None,
                                                     error="")


def call_requests_drain(batch: int = 50) -> int:
    ids = claim_batch(CallRequest, ready=Q(status=CallRequest.Status.PENDING), limit=batch,
                      lease_seconds=LEASE_SECONDS)
    for request in CallRequest.objects.filter(pk__in=ids).select_related("channel"):
        try:
            _send(request)
        except Exception:  # a bug in one adapter must not stop the other requests
            log.exception("call request %s failed", request.pk)
    return len(ids)
