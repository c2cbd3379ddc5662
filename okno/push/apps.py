from django.apps import AppConfig


class PushConfig(AppConfig):
    name = "okno.push"
    label = "push"

    def ready(self) -> None:
        from okno.core import worker
        from okno.push.services import pushes_forget_old

        worker.register_drain("pushes_forget_old", pushes_forget_old, idle_sleep=300.0)
