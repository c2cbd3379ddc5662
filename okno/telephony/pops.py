"""Screen pop: the caller's card opens for the employee whose phone rings.

A pop is a push (okno.push) to that employee's open tabs, made by the worker while it folds the
PBX's "ringing" event into the call, so it reaches the browser one drain and one push poll after
the event arrives (docs/telephony.md, "Screen pop").
"""

from django.urls import reverse

from okno.contacts.models import Contact
from okno.core.phones import format_phone
from okno.people.visibility import contact_visibility_q
from okno.push.services import push_send
from okno.telephony.models import Call, PbxExtension

KIND = "screen_pop"


def _payload(call: Call, user, new_customer: bool) -> dict:
    number = format_phone(call.customer_number) if call.customer_number.startswith("+") else call.customer_number
    payload = {"call_id": call.pk, "number": number, "line": call.line, "new_customer": new_customer,
               "contact": None}
    contact = call.contact
    if contact is not None and Contact.objects.filter(contact_visibility_q(user), pk=contact.pk).exists():
        responsible = contact.responsible
        payload["contact"] = {"id": contact.pk, "name": str(contact),
                              "url": reverse("contacts:card", args=[contact.pk]),
                              "responsible": responsible.display_name if responsible else ""}
    # A card the employee may not see pops as the bare number: its name is not theirs to read.
    return payload


def screen_pops_for_ringing(call: Call, ringing: dict[str, PbxExtension]) -> int:
    """Pops the call to each employee whose extension rings (or answers) now; once per employee."""
    if call.direction != Call.Direction.IN or not ringing:
        return 0
    contact = call.contact
    # The card was made for this call (after the call's row): the employee greets a new customer.
    new_customer = contact is not None and contact.created_at >= call.created_at
    sent = 0
    for extension in ringing.values():
        sent += push_send(user_ids=[extension.user_id], kind=KIND, key=str(call.pk),
                          payload=_payload(call, extension.user, new_customer))
    return sent


def call_changed_push(call: Call) -> None:
    """Tells the call's employee's open card of this customer to show the call as it is now
    (click-to-call: "the call appears on the card live"); one push per state of the call."""
    if call.employee_id is None or call.contact_id is None:
        return
    push_send(user_ids=[call.employee_id], kind="call", key=f"{call.pk}:{len(call.facts)}",
              payload={"call_id": call.pk, "contact_id": call.contact_id, "outcome": call.outcome})
