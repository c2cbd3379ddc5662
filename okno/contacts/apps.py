from django.apps import AppConfig


class ContactsConfig(AppConfig):
    name = "okno.contacts"
    label = "contacts"

    def ready(self) -> None:
        from okno.contacts import merge_registry

        merge_registry.register_builtin()
