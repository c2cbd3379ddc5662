from django.apps import AppConfig


class TimelineConfig(AppConfig):
    name = "okno.timeline"
    label = "timeline"

    def ready(self) -> None:
        from okno.contacts import merge_registry
        from okno.timeline import registry
        from okno.timeline.models import Activity
        from okno.timeline.selectors import notes_for_timeline

        merge_registry.register(Activity, "contact")
        registry.register(kinds=[Activity.Kind.NOTE], template="timeline/_note.html", load=notes_for_timeline)
        # System entries say everything in their summary; merges are drawn by contacts (contacts/timeline.py).
        registry.register(kinds=[Activity.Kind.SYSTEM], template="timeline/_summary.html")
