from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "okno.inbox"
    label = "inbox"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from okno.contacts import merge_registry
        from okno.core import worker
        from okno.inbox import adapters, drain, mailbox, replies, selectors, views_hooks
        from okno.inbox.models import Channel, Conversation
        from okno.timeline import registry as timeline
        from okno.timeline.models import Activity

        adapters.load_builtin()
        # A channel changed in this process is seen by its hooks at once (others: within seconds).
        post_save.connect(views_hooks.channels_forget, sender=Channel, dispatch_uid="inbox-channels-forget")
        post_delete.connect(views_hooks.channels_forget, sender=Channel, dispatch_uid="inbox-channels-forget-del")
        merge_registry.register(Conversation, "contact")
        timeline.register(kinds=[Activity.Kind.CHAT, Activity.Kind.EMAIL, Activity.Kind.FORM, Activity.Kind.MESSAGE],
                          template="inbox/_timeline_conversation.html", load=selectors.conversations_for_activities)
        worker.register_drain("inbox", drain.inbound_drain, idle_sleep=0.1, urgent=True)
        worker.register_drain("deliveries", replies.deliveries_drain, idle_sleep=0.5)
        worker.register_drain("mailboxes", mailbox.mailboxes_drain, idle_sleep=5)
        from okno.inbox import telegram_files  # retries are minutes apart; an idle look is one indexed query
        worker.register_drain("telegram_files", telegram_files.telegram_files_drain, idle_sleep=5)
        from okno.inbox import navigation as inbox_navigation  # the sidebar's items

        inbox_navigation.register()
