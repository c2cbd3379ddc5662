from django.apps import AppConfig


class DealsConfig(AppConfig):
    name = "okno.deals"
    label = "deals"

    def ready(self) -> None:
        from okno.contacts import merge_registry
        from okno.deals.models import Lead

        merge_registry.register(Lead, "contact")
