"""Replays of signed PBX events: a signature is bound to the first call it came with.

Zadarma signs `caller_id`, `called_did` (or `destination`/`internal`) and `call_start`, not the
call's id (PROTOCOLS.md 4b): a captured event re-sent with another `pbx_call_id` carries a valid
signature and made a second call. The freshness window (okno.telephony.adapters.zadarma)
refuses old ones; inside the window, this remembers each signature with its call: the events of
one call (START, IVR, INTERNAL, END sign the same fields) share it and pass, another call with
it is a replay. One row per signature, pruned once older than the window.
"""

from datetime import datetime, timedelta

from okno.telephony.models import SignatureUse

PRUNE_EVERY = 100  # rows written between two deletions of the expired ones


def signature_call(*, channel, signature: str, call_id: str, now: datetime, keep_seconds: float) -> str:
    """The call this signature belongs to: `call_id` when it is new (or its row expired)."""
    use, created = SignatureUse.objects.get_or_create(channel=channel, signature=signature,
                                                      defaults={"call_id": call_id, "seen_at": now})
    if created:
        if use.pk % PRUNE_EVERY == 0:
            SignatureUse.objects.filter(seen_at__lt=now - timedelta(seconds=keep_seconds)).delete()
        return call_id
    if use.call_id != call_id and use.seen_at < now - timedelta(seconds=keep_seconds):
        # Expired (not pruned yet): the freshness window refuses an event this old anyway.
        SignatureUse.objects.filter(pk=use.pk).update(call_id=call_id, seen_at=now)
        return call_id
    return use.call_id
