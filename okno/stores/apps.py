from django.apps import AppConfig


class StoresConfig(AppConfig):
    name = "okno.stores"
    label = "stores"
