"""What every PBX adapter shares: its facts go to okno.telephony.calls, and a fact that names a
recording queues the recording's fetch (okno.telephony.recordings)."""

from typing import IO

from okno.inbox.adapters.base import ChannelAdapter, SendFailed
from okno.telephony.calls import CallFact, call_fact_record
from okno.telephony.recordings import recording_queue


class PbxAdapter(ChannelAdapter):
    # How long after the event naming it a recording is first fetched (Zadarma advises 40 s).
    recording_delay_seconds: float = 0

    def record(self, *, channel, item: CallFact) -> None:
        call = call_fact_record(channel=channel, fact=item)
        if item.kind == "recording":
            recording_queue(call=call, delay_seconds=float(
                channel.settings.get("recording_delay_seconds") or self.recording_delay_seconds))

    def recording_fetch(self, channel, recording_id: str, sink: IO[bytes], *, max_bytes: int) -> str:
        """Downloads the recording into `sink`; returns the content type the PBX named ("" if none).

        Raises SendFailed (retry=True while the PBX is unreachable or the file not ready)."""
        raise SendFailed(f"channel kind {self.kind!r} cannot fetch recordings", retry=False)
