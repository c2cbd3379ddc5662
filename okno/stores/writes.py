"""Okno → store: a deal moved in Okno queues the mapped status as a StoreWrite row.

Subscribed to deals' `deal.stage_changed` (okno.core.events) from StoresConfig.ready, so the
row commits with the move. A move the store itself caused (`via="store"`) writes nothing back:
that is what keeps the two sides from playing ping-pong.
"""

from django.utils.translation import gettext as _

from okno.core.events import Event
from okno.stores.models import StoreLog, StoreOrder, StoreWrite


def store_write_for_move(event: Event) -> None:
    data = event.data
    if data.get("via") == "store":
        return
    stored = StoreOrder.objects.select_related("connection").filter(deal_id=data["deal_id"]).first()
    if stored is None:
        return
    connection = stored.connection
    status = connection.status_for(data["to_stage_id"])
    if status is None:
        StoreLog.objects.create(connection=connection, order=stored, kind=StoreLog.Kind.WRITE_FAILED,
                                message=_("%(order)s: stage %(stage)s has no store status in the map: nothing written")
                                % {"order": stored.external_id, "stage": data["to_stage_id"]})
        return
    # Only the newest move matters: an older status still waiting would only flicker in the store.
    StoreWrite.objects.filter(order=stored, state=StoreWrite.State.PENDING).update(
        state=StoreWrite.State.SUPERSEDED, last_error="a later move in Okno")
    if status == stored.store_status and not StoreWrite.objects.filter(order=stored, state=StoreWrite.State.SENT,
                                                                       echo_seen=False).exists():
        return  # the store has this status already (a move back to where the store stands)
    StoreWrite.objects.create(connection=connection, order=stored, status=status, stage_id=data["to_stage_id"])
