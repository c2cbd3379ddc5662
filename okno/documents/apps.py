from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "okno.documents"
    label = "documents"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from okno.core import events, navigation, worker
        from okno.documents.drains import documents_jobs_drain, documents_pdf_drain, on_deal_entered_stage
        from okno.documents.services import TIMELINE_KIND
        from okno.documents.timeline import documents_for_timeline
        from okno.timeline import registry as timeline

        # Activity.Kind.DOCUMENT (timeline migration 0004); the card draws it through this registration.
        timeline.register(kinds=[TIMELINE_KIND], template="documents/_timeline_document.html",
                          load=documents_for_timeline)
        events.subscribe("deal.stage_changed", on_deal_entered_stage, key="documents.rules.stage_changed")
        events.subscribe("deal.created", on_deal_entered_stage, key="documents.rules.created")
        # A PDF left to the worker is wanted soon (a manager waits to send it): 1 s pick-up.
        worker.register_drain("documents_pdf", documents_pdf_drain, idle_sleep=1.0)
        worker.register_drain("documents_jobs", documents_jobs_drain, idle_sleep=1.0)
        from okno.documents import robot_actions

        robot_actions.register()

        def admins(user) -> bool:
            return getattr(user, "is_admin", False)

        navigation.register_item(navigation.SETTINGS, "document_templates", _("Document templates"),
                                 "documents:templates", order=60, visible=admins)
        navigation.register_item(navigation.WORK, "suppliers", _("Suppliers"), "documents:suppliers", order=80)
