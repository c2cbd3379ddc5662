import pytest


@pytest.fixture(autouse=True)
def _only_the_outbox_subscribes(monkeypatch):
    """Events published by these tests carry no real deal or call: other domains' subscribers
    (robots open deadlines on deal.created) are not theirs to exercise."""
    from okno.core import events
    from okno.outbox.services import outbox_webhooks_for_event

    monkeypatch.setattr(events, "_subscribers", {"*": [("outbox.webhooks", outbox_webhooks_for_event)]})
