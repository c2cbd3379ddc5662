from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "okno.analytics"
    label = "analytics"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from okno.analytics import chats_rollup, process_rollup, rollup
        from okno.core import navigation

        rollup.register()  # the calls rollup: marks from the call events, the worker's drain
        chats_rollup.register()  # the chats report's: marks from the conversations' events
        process_rollup.register()  # the process report's: marks from the deals', leads' and inbox's events

        # Everyone signed in: a manager sees their own figures, a head their tree (okno.analytics.scope).
        navigation.register_item(navigation.REPORTS, "report_calls", _("Calls"), "analytics:calls", order=10)
        navigation.register_item(navigation.REPORTS, "report_chats", _("Chats"), "analytics:chats", order=20)
        navigation.register_item(navigation.REPORTS, "report_process", _("Process"), "analytics:process", order=30)
        navigation.register_item(navigation.REPORTS, "report_boards", _("Team boards"), "analytics:boards", order=40)
        navigation.register_item(navigation.REPORTS, "report_saved", _("Saved reports"), "analytics:saved", order=50)
        navigation.register_item(navigation.SETTINGS, "analytics_settings", _("Reports"),
                                 "analytics:settings", order=60, visible=navigation.admins_only)

        from okno.analytics.digest import digest_drain
        from okno.analytics.live import live_register
        from okno.core import worker

        live_register()  # a finished call or chat pushes "reports changed" to open report pages
        # The Monday digest: a look every five minutes is one indexed query, and Monday 07:05 is on time.
        worker.register_drain("analytics_digest", digest_drain, idle_sleep=300)
