from django.apps import AppConfig


class WorkConfig(AppConfig):
    name = "okno.work"
    label = "work"

    def ready(self) -> None:
        from okno.contacts import merge_registry
        from okno.work.models import WorkItem

        merge_registry.register(WorkItem, "contact")

        from okno.work import navigation

        navigation.register()

        from okno.work import feeds

        feeds.register()

        from okno.work import payment_control

        payment_control.register()

        # The supervisor board's live pushes and the auto-dialer's drain (issue 18).
        from okno.work import board_live

        board_live.register()

        from okno.core import worker
        from okno.work.dialer import dialer_drain

        worker.register_drain("work_dialer", dialer_drain, idle_sleep=1.0)
