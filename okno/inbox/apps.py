from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "okno.inbox"
    label = "inbox"

    def ready(self) -> None:
        from okno.contacts import merge_registry
        from okno.core import worker
        from okno.inbox import adapters, drain, replies
        from okno.inbox.models import Conversation

        adapters.load_builtin()
        merge_registry.register(Conversation, "contact")
        worker.register_drain("inbox", drain.inbound_drain, idle_sleep=0.1)
        worker.register_drain("deliveries", replies.deliveries_drain, idle_sleep=0.5)
