from django.apps import AppConfig


class InvoicesConfig(AppConfig):
    name = "okno.invoices"
    label = "invoices"
