from django.apps import AppConfig


class DealsConfig(AppConfig):
    name = "okno.deals"
    label = "deals"

    def ready(self) -> None:
        from okno.contacts import merge_registry
        from okno.core import worker
        from okno.deals import notifications
        from okno.deals.models import Deal, Lead
        from okno.timeline import registry as timeline
        from okno.timeline.models import Activity

        merge_registry.register(Lead, "contact")
        merge_registry.register(Deal, "contact")
        from okno.deals.timeline import deals_for_timeline

        timeline.register(kinds=[Activity.Kind.DEAL], template="deals/_timeline_deal.html", load=deals_for_timeline)
        # An unread lead is e-mailed after minutes, so looking twice a minute is plenty.
        worker.register_drain("lead_reminders", notifications.lead_reminders, idle_sleep=30)
        from okno.deals import navigation as deals_navigation  # the sidebar's lead and deal items
        deals_navigation.register()
        from okno.contacts.export_jobs import register_export_kind
        from okno.contacts.models import ExportJob
        from okno.deals.exports import deal_export_write, deal_rows_for_query

        register_export_kind(ExportJob.Kind.DEALS, rows=deal_rows_for_query, write=deal_export_write)
