from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo company of `make demo`: the top of the import graph, it may import every domain."""

    name = "okno.demo"
    label = "demo"
