from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "okno.analytics"
    label = "analytics"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from okno.analytics import rollup
        from okno.core import navigation

        rollup.register()  # the calls rollup: marks from the call events, the worker's drain

        # Everyone signed in: a manager sees their own figures, a head their tree (okno.analytics.scope).
        navigation.register_item(navigation.REPORTS, "report_calls", _("Calls"), "analytics:calls", order=10)
        navigation.register_item(navigation.REPORTS, "report_chats", _("Chats"), "analytics:chats", order=20)
        navigation.register_item(navigation.REPORTS, "report_process", _("Process"), "analytics:process", order=30)
        navigation.register_item(navigation.SETTINGS, "analytics_settings", _("Reports"),
                                 "analytics:settings", order=60, visible=navigation.admins_only)
