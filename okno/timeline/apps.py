from django.apps import AppConfig


class TimelineConfig(AppConfig):
    name = "okno.timeline"
    label = "timeline"

    def ready(self) -> None:
        from okno.contacts import merge_registry
        from okno.timeline.models import Activity

        merge_registry.register(Activity, "contact")
