"""Playing a call's recording, from the card or through the API's recording_url.

Served through the visibility rule, like the card: a call on a card the user may not see is 404,
so is a recording not fetched yet. The file is our copy (Django's storage), played in place
(`inline`, for the card's audio player) but only ever as one of the audio types we checked its
bytes against, with `nosniff` and a sandboxing CSP. A channel that keeps recordings at the PBX
(`recording_store: false`) gets a redirect to a fresh short-lived link made for this request.
"""

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_safe

from okno.inbox.adapters.base import SendFailed
from okno.telephony.recordings import EXTENSIONS, RecordingMissing, recording_link, recording_open
from okno.telephony.selectors import calls_visible


@login_required
@require_safe
def call_recording(request: HttpRequest, call_id: int) -> HttpResponse:
    call = get_object_or_404(calls_visible(user=request.user).select_related("recording", "channel"), pk=call_id)
    try:
        recording, handle = recording_open(call=call)
    except RecordingMissing:
        return _linked(call)
    response = FileResponse(handle, content_type=recording.content_type)
    response["Content-Disposition"] = f'inline; filename="call-{call.pk}.{EXTENSIONS[recording.content_type]}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    # Behind a login: no shared cache may keep a customer's conversation.
    response["Cache-Control"] = "private"
    return response


def _linked(call) -> HttpResponse:
    try:
        link = recording_link(call=call)
    except RecordingMissing as exc:
        raise Http404("No recording") from exc
    except SendFailed as exc:
        return HttpResponse(f"The PBX did not give the recording: {exc}", status=502, content_type="text/plain")
    response = HttpResponseRedirect(link)
    # The link is a bearer URL for a few minutes: not cached, not leaked to the PBX's page as a referrer.
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response
