from django.apps import AppConfig


class ContactsConfig(AppConfig):
    name = "okno.contacts"
    label = "contacts"

    def ready(self) -> None:
        from okno.contacts import merge_registry
        from okno.contacts.duplicates import duplicates_drain
        from okno.core.worker import register_drain

        merge_registry.register_builtin()
        # Idle polls every 2 s: a new duplicate may wait that long to show on the page.
        register_drain("duplicates", duplicates_drain, idle_sleep=2.0)
