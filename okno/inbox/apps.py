from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "okno.inbox"
    label = "inbox"

    def ready(self) -> None:
        from okno.contacts import merge_registry
        from okno.core import worker
        from okno.deals import notifications
        from okno.inbox import adapters, drain, mailbox, replies
        from okno.inbox.models import Conversation

        adapters.load_builtin()
        merge_registry.register(Conversation, "contact")
        worker.register_drain("inbox", drain.inbound_drain, idle_sleep=0.1)
        worker.register_drain("deliveries", replies.deliveries_drain, idle_sleep=0.5)
        worker.register_drain("mailboxes", mailbox.mailboxes_drain, idle_sleep=5)
        # An unread lead is e-mailed after minutes, so looking twice a minute is plenty.
        worker.register_drain("lead_reminders", notifications.lead_reminders, idle_sleep=30)
