from django.apps import AppConfig


class InvoicesConfig(AppConfig):
    name = "okno.invoices"
    label = "invoices"

    def ready(self) -> None:
        from okno.contacts import merge_registry
        from okno.invoices.models import Invoice

        # A merge moves the merged-away card's invoices to the kept one (payments follow their invoice).
        merge_registry.register(Invoice, "contact")
