from django.apps import AppConfig


class ContactsConfig(AppConfig):
    name = "okno.contacts"
    label = "contacts"

    def ready(self) -> None:
        from okno.contacts import merge_registry
        from okno.contacts.duplicates import duplicates_drain
        from okno.core.worker import register_drain

        merge_registry.register_builtin()
        from okno.contacts.timeline import merges_for_timeline
        from okno.timeline import registry as timeline
        from okno.timeline.models import Activity

        timeline.register(kinds=[Activity.Kind.MERGE], template="contacts/_timeline_merge.html",
                          load=merges_for_timeline)
        # Idle polls every 2 s: a new duplicate may wait that long to show on the page.
        register_drain("duplicates", duplicates_drain, idle_sleep=2.0)
        from django.db.models.signals import post_migrate

        from okno.contacts.search import ensure_sqlite_index_after_migrate

        post_migrate.connect(ensure_sqlite_index_after_migrate, sender=self)
        from django.utils.translation import gettext_lazy as _  # the sidebar's items

        from okno.core import navigation

        W = navigation.WORK
        navigation.register_item(W, "contacts", _("Contacts"), "contacts:list", order=40,
                                 match=("/contacts/new/", "/contacts/merge/"))
        navigation.register_item(W, "companies", _("Companies"), "contacts:companies", order=50)
        navigation.register_item(W, "duplicates", _("Duplicates"), "contacts:duplicates", order=60)
        navigation.register_item(W, "import", _("Import and export"), "contacts:import", order=65,
                                 match=("/contacts/export/",))
        navigation.register_item(navigation.SETTINGS, "custom_fields", _("Custom fields"),
                                 "contacts:custom_fields", order=60, visible=navigation.admins_only)
