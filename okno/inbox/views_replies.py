"""A reply from the card: the conversation's reply box posts here."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from okno.core.errors import FieldError
from okno.core.reasons import reason_text
from okno.inbox.replies import conversation_reply
from okno.inbox.selectors import conversation_for_card, conversations_visible


@login_required
@require_POST
def conversation_reply_view(request: HttpRequest, pk: int) -> HttpResponse:
    conversation = get_object_or_404(conversations_visible(user=request.user).select_related("channel"), pk=pk)
    text, error = request.POST.get("text", ""), None
    try:
        conversation_reply(actor=request.user, conversation=conversation, text=text)
    except FieldError as exc:
        error = reason_text(next(iter(exc.by_field.values())))
    except PermissionDenied as exc:
        raise Http404 from exc
    if not request.htmx:
        return redirect("contacts:card", pk=conversation.contact_id)
    # 200 even with an error: htmx does not swap 4xx answers by default.
    return render(request, "inbox/_conversation.html", {
        "conv": conversation_for_card(user=request.user, pk=pk), "reply_error": error,
        "reply_text": text if error else "",
    })
