from okno.outbox.models import SmsProvider, WebhookEndpoint

ALL_EVENTS = ["deal.created", "deal.stage_changed", "lead.created", "contact.created", "call.finished"]


def make_endpoint(url: str, *, events=None, allow_private_network: bool = True, **fields) -> WebhookEndpoint:
    """An endpoint written directly (a local receiver needs allow_private_network, as an admin would set)."""
    return WebhookEndpoint.objects.create(url=url, events=events or ["*"],
                                          allow_private_network=allow_private_network, **fields)


def make_provider(kind: str, base_url: str, **fields) -> SmsProvider:
    defaults = {"name": kind, "is_default": True, "api_key": "good-key" if kind == "smsru" else "",
                "login": "shop", "password": "good-pass"}
    defaults.update(fields)
    return SmsProvider.objects.create(kind=kind, base_url=base_url, **defaults)
