"""The channel registry: a channel kind is one adapter module registered here.

An adapter turns a provider's request into plain dataclasses (okno.inbox.items) and back;
it never touches the ORM beyond reading its Channel. See docs/channels.md for how to add one.
"""

from okno.inbox.adapters.base import ChannelAdapter

_adapters: dict[str, ChannelAdapter] = {}


def register(adapter: ChannelAdapter) -> None:
    _adapters[adapter.kind] = adapter


def get(kind: str) -> ChannelAdapter | None:
    return _adapters.get(kind)


def kinds() -> list[str]:
    return sorted(_adapters)


def load_builtin() -> None:
    from okno.inbox.adapters import form

    register(form.FormAdapter())
    from okno.inbox.adapters import jivo

    register(jivo.JivoAdapter())
    from okno.inbox.adapters import tilda

    register(tilda.TildaAdapter())
    from okno.inbox.adapters import telegram

    register(telegram.TelegramAdapter())
    from okno.inbox.adapters import email

    register(email.EmailAdapter())
