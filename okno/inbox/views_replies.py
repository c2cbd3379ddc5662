"""A reply from the card: the conversation's reply box posts here.

Where the conversation's channel can send (Telegram, e-mail) the reply goes through it; where
it cannot (a Jivo chat, a web form) the box offers the customer's e-mail and mobile and the
reply goes through the outbox (replies.conversation_reply_routed)."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from okno.core.errors import FieldError
from okno.core.reasons import reason_text
from okno.inbox.replies import conversation_reply, conversation_reply_routed
from okno.inbox.selectors import channel_can_reply, conversation_for_card, conversations_visible


@login_required
@require_POST
def conversation_reply_view(request: HttpRequest, pk: int) -> HttpResponse:
    conversation = get_object_or_404(conversations_visible(user=request.user).select_related("channel"), pk=pk)
    text, errors = request.POST.get("text", ""), {}
    to, subject = request.POST.get("to", ""), request.POST.get("subject", "")
    try:
        if channel_can_reply(conversation):
            conversation_reply(actor=request.user, conversation=conversation, text=text)
        else:
            conversation_reply_routed(actor=request.user, conversation=conversation, to=to, text=text,
                                      subject=subject)
    except FieldError as exc:
        errors = {field: reason_text(reason) for field, reason in exc.by_field.items()}
    except PermissionDenied as exc:
        raise Http404 from exc
    if not request.htmx:
        return redirect("contacts:card", pk=conversation.contact_id)
    # 200 even with an error: htmx does not swap 4xx answers by default.
    return render(request, "inbox/_conversation.html", {
        "conv": conversation_for_card(user=request.user, pk=pk),
        "reply_error": next(iter(errors.values()), None), "reply_errors": errors,
        "reply_text": text if errors else "", "reply_to": to if errors else "",
        "reply_subject_typed": subject if errors else "",
    })
