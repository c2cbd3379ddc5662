from django.apps import AppConfig


class TelephonyConfig(AppConfig):
    name = "okno.telephony"
    label = "telephony"

    def ready(self) -> None:
        from okno.contacts import merge_registry
        from okno.core import worker
        from okno.inbox import adapters
        from okno.telephony import channel_checks  # noqa: F401 (registers "Test connection" for PBX kinds)
        from okno.telephony.adapters import asterisk, mango, telphin, zadarma
        from okno.telephony.calls import callbacks_drain
        from okno.telephony.click_to_call import call_requests_drain
        from okno.telephony.models import Call, CallRequest
        from okno.telephony.recordings import recordings_drain
        from okno.telephony.timeline import calls_for_timeline
        from okno.timeline import registry as timeline
        from okno.timeline.models import Activity

        # A PBX is a channel like any other: its webhooks are stored before they are
        # acknowledged and drained by the inbox's worker; only what they record differs.
        adapters.register(mango.MangoAdapter())
        adapters.register(zadarma.ZadarmaAdapter())
        adapters.register(telphin.TelphinAdapter())
        adapters.register(asterisk.AsteriskAdapter())
        merge_registry.register(Call, "contact")
        merge_registry.register(CallRequest, "contact")
        # A call's entry is drawn from the call in the reader's language, with its recording's player.
        timeline.register(kinds=[Activity.Kind.CALL], template="telephony/_timeline_call.html",
                          load=calls_for_timeline)
        # Click-to-call requests: a person waits for their phone to ring, so look often.
        worker.register_drain("call_requests", call_requests_drain, idle_sleep=0.2, urgent=True)
        worker.register_drain("callbacks", callbacks_drain, idle_sleep=2.0)
        # Recordings wait for their PBX anyway (Zadarma: 40 s): a relaxed look is enough.
        worker.register_drain("recordings", recordings_drain, idle_sleep=2.0)
        from django.utils.translation import gettext_lazy as _  # the sidebar's items

        from okno.core import navigation

        # The calls list: everyone sees the calls they may count (their own, a head's tree, all for an admin).
        navigation.register_item(navigation.COMMUNICATIONS, "calls", _("Calls"), "telephony:calls", order=35)
        navigation.register_item(navigation.COMMUNICATIONS, "unmatched_extensions", _("Unmatched extensions"),
                                 "telephony:unmatched", order=40, visible=navigation.admins_only)
