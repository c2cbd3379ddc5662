from django.apps import AppConfig


class StoresConfig(AppConfig):
    """Online stores: their orders become deals, statuses move both ways (docs/stores.md)."""

    name = "okno.stores"
    label = "stores"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from okno.core import events, navigation, worker
        from okno.stores.drains import store_events_drain, store_polls_drain, store_writes_drain
        from okno.stores.writes import store_write_for_move

        # A deal moved in Okno writes the store's status in the move's own transaction.
        events.subscribe("deal.stage_changed", store_write_for_move, key="stores.writes")
        worker.register_drain("store_events", store_events_drain, idle_sleep=0.5)
        worker.register_drain("store_writes", store_writes_drain, idle_sleep=1.0)
        # Reconciliation: each connection says when it is due (POLL_SECONDS); one look a minute is plenty.
        worker.register_drain("store_polls", store_polls_drain, idle_sleep=60)
        navigation.register_item(navigation.SETTINGS, "stores", _("Online stores"), "stores:list", order=47,
                                 visible=navigation.admins_only, match=("/stores/",))
