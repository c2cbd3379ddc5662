"""How calls are drawn on the card's timeline, in the reader's language.

A call's activity keeps a summary written when the call was stored ("Demo PBX: входящий,
пропущен"), in whatever language was active then: an English reader saw Russian. The entry is
drawn from the Call itself (line, direction, outcome, employee, talk time) and its recording's
player; the stored summary remains for a call that is gone."""

from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from okno.telephony.models import Call, CallRecording
from okno.timeline.models import Activity


@dataclass
class CallEntry:
    call: Call
    recording_url: str


def calls_for_timeline(activities: list[Activity]) -> dict[int, CallEntry]:
    """Activity id -> its call (line and employee loaded) and recording URL; two queries a page.

    The card is already checked visible, and its calls are the card's own."""
    call_type = ContentType.objects.get_for_model(Call)
    by_call = {a.detail_id: a.pk for a in activities if a.detail_type_id == call_type.pk and a.detail_id}
    if not by_call:
        return {}
    calls = Call.objects.select_related("channel", "employee").in_bulk(list(by_call))
    ready = set(CallRecording.objects.filter(
        call_id__in=list(by_call), status__in=(CallRecording.Status.STORED, CallRecording.Status.LINKED),
    ).values_list("call_id", flat=True))
    return {by_call[pk]: CallEntry(call, reverse("telephony:call_recording", args=[pk]) if pk in ready else "")
            for pk, call in calls.items()}
