from okno.inbox.models import Channel


def make_channel(*, kind: str = "form", name: str = "Сайт", **fields) -> Channel:
    return Channel.objects.create(kind=kind, name=name, **fields)
