"""A person's decision on a phone a customer claimed in a chat: Confirm (attach or add) or Dismiss."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from okno.contacts.models import ContactMerge
from okno.inbox.claims import ClaimRefused, phone_claim_decide
from okno.inbox.selectors import messages_visible


@login_required
@require_POST
def phone_claim_view(request: HttpRequest, message_id: int, index: int) -> HttpResponse:
    message = get_object_or_404(messages_visible(user=request.user).select_related("conversation"), pk=message_id)
    raw_card = request.POST.get("card", "")
    try:
        claim = phone_claim_decide(actor=request.user, message=message, index=index,
                                   action=request.POST.get("action", ""),
                                   card_id=int(raw_card) if raw_card.isdigit() else None)
    except ClaimRefused as exc:
        if exc.status == 404:
            return HttpResponse(exc.reason, status=404, content_type="text/plain; charset=utf-8")
        if exc.status == 400:
            return HttpResponse(exc.reason, status=400, content_type="text/plain; charset=utf-8")
        messages.error(request, exc.reason)
        return redirect(reverse("contacts:card", args=[message.conversation.contact_id])
                        + f"#conversation-{message.conversation_id}")
    if claim.get("merge_id"):
        merge = ContactMerge.objects.get(pk=claim["merge_id"])
        notice = render_to_string("contacts/_merge_done.html", {"merge": merge, "count": 1}, request=request)
        messages.success(request, mark_safe(notice))  # noqa: S308 - our own template, escaped inside
        return redirect(reverse("contacts:card", args=[merge.kept_id]) + f"#conversation-{message.conversation_id}")
    if claim["status"] == "confirmed":
        messages.success(request, _("The phone number was added to the card."))
    return redirect(reverse("contacts:card", args=[message.conversation.contact_id])
                    + f"#conversation-{message.conversation_id}")
