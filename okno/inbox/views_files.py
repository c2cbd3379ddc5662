"""Downloading a file a customer sent, from the card.

Served through the visibility rule, never from a public media URL: another department's
card is answered 404, like the card itself. The answer is always a download
(`Content-Disposition: attachment`) with `nosniff` and a sandboxing CSP, so a customer's HTML
or SVG never runs as our page.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from okno.inbox.attachments import AttachmentMissing, attachment_open, content_disposition
from okno.inbox.selectors import messages_visible
from okno.inbox.telegram_files import telegram_file_retry


@login_required
@require_safe
def message_file(request: HttpRequest, message_id: int, index: int) -> FileResponse:
    message = get_object_or_404(messages_visible(user=request.user).select_related("conversation__channel"),
                                pk=message_id)
    try:
        attachment, handle = attachment_open(message=message, index=index)
    except AttachmentMissing as exc:
        raise Http404("No such file") from exc
    response = FileResponse(handle, content_type=attachment.content_type)
    response["Content-Disposition"] = content_disposition(attachment.name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    # Behind a login: no shared cache may keep a customer's file.
    response["Cache-Control"] = "private"
    return response


@login_required
@require_POST
def message_file_retry(request: HttpRequest, message_id: int, file_index: int) -> HttpResponse:
    """The card's Retry of a Telegram file given up: the worker fetches it again, off this request."""
    message = get_object_or_404(messages_visible(user=request.user).select_related("conversation"), pk=message_id)
    if telegram_file_retry(message=message, index=file_index):
        messages.success(request, _("The file will be downloaded again in a moment."))
    else:
        messages.info(request, _("Nothing to retry: the file is downloaded or still being tried."))
    return redirect(reverse("contacts:card", args=[message.conversation.contact_id])
                    + f"#conversation-{message.conversation_id}")
