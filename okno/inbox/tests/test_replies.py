import pytest

from okno.contacts.tests.factories import make_contact
from okno.core.errors import FieldError
from okno.inbox import adapters
from okno.inbox.adapters.base import ChannelAdapter, SendFailed
from okno.inbox.models import Conversation, Delivery, Message
from okno.inbox.replies import conversation_reply, deliveries_drain
from okno.inbox.tests.factories import make_channel


class FlakyAdapter(ChannelAdapter):
    """Fails once with a temporary error, then sends."""

    kind = "flaky-test"
    can_reply = True

    def __init__(self):
        self.sent = []

    def send(self, channel, conversation, message):
        if not self.sent:
            self.sent.append(None)
            raise SendFailed("503 from provider")
        self.sent.append(message.text)
        return "provider-42"


@pytest.fixture
def flaky():
    adapter = FlakyAdapter()
    adapters.register(adapter)
    yield adapter
    adapters._adapters.pop(adapter.kind)


def test_reply_is_queued_sent_by_the_worker_and_retried(admin_user, flaky):
    channel = make_channel(kind="flaky-test")
    conv = Conversation.objects.create(channel=channel, contact=make_contact(), kind="message", external_id="t1")
    # when a manager replies
    message = conversation_reply(actor=admin_user, conversation=conv, text="Здравствуйте!")
    assert Delivery.objects.get().status == "pending"
    # then the first try fails temporarily and is scheduled again
    assert deliveries_drain() == 1
    delivery = Delivery.objects.get()
    assert delivery.status == "pending" and "503" in delivery.error
    Delivery.objects.update(run_after=delivery.run_after.replace(year=2000))
    deliveries_drain()
    assert Delivery.objects.get().status == "sent"
    assert Message.objects.get(pk=message.pk).external_id == "provider-42"
    assert flaky.sent[-1] == "Здравствуйте!"


def test_empty_reply_and_channel_without_replies_are_refused(admin_user):
    conv = Conversation.objects.create(channel=make_channel(), contact=make_contact(), kind="form", external_id="f")
    with pytest.raises(FieldError) as err:
        conversation_reply(actor=admin_user, conversation=conv, text="Ответ")
    assert "conversation" in err.value.by_field
    assert not Message.objects.exists()
