"""GET /api/v1/conversations/{id}: a conversation with its messages, by the card's visibility; and
the conversation's line on the card's timeline reading what was written."""

import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from okno.contacts.models import Contact
from okno.contacts.services import contact_delete
from okno.contacts.tests.factories import make_contact
from okno.inbox import adapters
from okno.inbox.adapters.base import ChannelAdapter
from okno.inbox.drain import inbound_drain
from okno.inbox.items import InboundItem, Sender
from okno.inbox.models import Conversation, Message
from okno.inbox.replies import conversation_reply
from okno.inbox.services import inbound_item_record
from okno.inbox.tests.factories import make_channel
from okno.people.tests.factories import DepartmentFactory, UserFactory
from okno.timeline.models import Activity

JIVO = Path(__file__).parent / "payloads" / "jivo"


def jivo_event(client, channel, name: str) -> None:
    body = (JIVO / f"{name}.json").read_text()
    assert client.post(channel.webhook_path, data=body, content_type="application/json").status_code == 200
    inbound_drain()


def summary_of(conversation: Conversation) -> str:
    return Activity.objects.get(contact_id=conversation.contact_id, detail_id=conversation.pk,
                                kind=Activity.Kind.CHAT).summary


@pytest.fixture
def jivo(db):
    return make_channel(kind="jivo", name="Сайт")


def test_a_jivo_chat_reads_through_the_api_and_its_timeline_line_says_what_was_written(jivo, client, api):
    # given a chat Jivo reported as accepted: an event with no text
    jivo_event(client, jivo, "ru_chat_accepted_int_ids")
    conversation = Conversation.objects.get()
    assert summary_of(conversation) == "Сайт: "

    # when the finished chat brings its transcript
    jivo_event(client, jivo, "ru_chat_finished_str_ids")

    # then the conversation's line on the card reads the start of its last message
    assert summary_of(conversation) == "Сайт: Отлично, оформляю"
    # and an API client reads the whole conversation, oldest message first
    r = api.get(f"/api/v1/conversations/{conversation.pk}")
    assert r.status_code == 200, r.content
    body = r.json()
    assert (body["id"], body["kind"], body["channel_name"], body["contact_id"]) == (
        conversation.pk, "chat", "Сайт", conversation.contact_id)
    assert [(m["direction"], m["author_name"], m["text"], m["attachments"], m["delivery_status"])
            for m in body["messages"]] == [
        ("in", "Ольга Смирнова", "Здравствуйте, есть ли доставка в Тверь?", [], None),
        ("out", "Анна Операторова", "Добрый день! Да, 2 дня.", [], None),
        ("in", "Ольга Смирнова", "Отлично, оформляю", [], None),
    ]
    assert [m["sent_at"] for m in body["messages"]] == [
        m.sent_at.isoformat().replace("+00:00", "Z") for m in Message.objects.order_by("sent_at")]
    assert body["messages_total"] == 3
    # and the card's activities over the API say the same
    activities = api.get(f"/api/v1/contacts/{conversation.contact_id}/activities").json()
    assert "Сайт: Отлично, оформляю" in [a["summary"] for a in activities]


def test_a_long_message_is_cut_at_a_word_on_one_line(db):
    # given a chat whose first event had no text
    channel = make_channel(kind="jivo", name="Сайт")
    conversation = _chat(channel)
    # when a long message with line breaks arrives
    _record(channel, conversation, "m1", "Здравствуйте,\n\nхочу заказать диван " + "и ещё кое-что " * 20)
    # then the line shows its start, on one line, cut at a word
    summary = summary_of(conversation)
    assert summary.startswith("Сайт: Здравствуйте, хочу заказать диван и ещё")
    assert summary.endswith("…") and "\n" not in summary and len(summary) <= len("Сайт: ") + 120
    assert not summary.removesuffix("…").endswith(" ")


def test_an_older_message_arriving_late_does_not_replace_the_newest(db):
    # given a chat whose line already reads its newest message
    channel = make_channel(kind="jivo", name="Сайт")
    conversation = _chat(channel)
    _record(channel, conversation, "m2", "Последнее", minutes=5)
    # when an earlier message is reported afterwards
    _record(channel, conversation, "m1", "Самое первое", minutes=1)
    # then the line keeps the newest
    assert summary_of(conversation) == "Сайт: Последнее"


def test_a_reply_from_the_card_is_the_newest_message_on_the_line(api, admin_user, replying):
    # given a messenger conversation
    channel = make_channel(kind=replying.kind, name="Телеграм")
    conversation = _chat(channel)
    _record(channel, conversation, "m1", "Есть в наличии?")
    # when a manager answers from the card
    conversation_reply(actor=admin_user, conversation=conversation, text="Да, есть, привезём завтра")
    # then the line reads the answer, and the API lists it as the manager's, with its delivery
    assert summary_of(conversation) == "Телеграм: Да, есть, привезём завтра"
    last = api.get(f"/api/v1/conversations/{conversation.pk}").json()["messages"][-1]
    assert (last["direction"], last["author_id"], last["text"], last["delivery_status"]) == (
        "out", admin_user.pk, "Да, есть, привезём завтра", "pending")


def test_attachments_are_listed_by_their_display_names(api, db):
    # given a letter with a file whose name the sender made look like a path
    channel = make_channel(kind="email", name="Почта")
    conversation = Conversation.objects.create(channel=channel, contact=make_contact(), kind="email",
                                               external_id="<a@b>", subject="Счёт")
    Message.objects.create(conversation=conversation, direction="in", external_id="<a@b>", text="Счёт во вложении",
                           meta={"attachments": [{"name": "../../etc/счёт №5.pdf", "size": 2048,
                                                  "content_type": "application/pdf", "path": "inbox/email/1/x"}]})
    # when an API client reads the conversation
    body = api.get(f"/api/v1/conversations/{conversation.pk}").json()
    # then the file is named as the card names it, never with the sender's path or our storage path
    assert body["messages"][0]["attachments"] == [{"name": "счёт №5.pdf", "size": 2048,
                                                   "content_type": "application/pdf"}]
    assert "inbox/email" not in json.dumps(body)


def test_limit_gives_the_newest_messages_oldest_first(api, db):
    channel = make_channel(kind="jivo", name="Сайт")
    conversation = _chat(channel)
    for n in range(5):
        _record(channel, conversation, f"m{n}", f"Сообщение {n}", minutes=n)
    body = api.get(f"/api/v1/conversations/{conversation.pk}", limit=2).json()
    assert [m["text"] for m in body["messages"]] == ["Сообщение 3", "Сообщение 4"]
    assert body["messages_total"] == 5
    assert api.get(f"/api/v1/conversations/{conversation.pk}", limit=0).status_code == 422


def test_only_those_who_may_open_the_card_read_its_conversation(api_as, db):
    # given a card of the sales department with a conversation
    sales, service = DepartmentFactory(name="Продажи"), DepartmentFactory(name="Сервис")
    manager = UserFactory(department=sales)
    channel = make_channel(kind="jivo", name="Сайт")
    conversation = _chat(channel)
    Contact.objects.filter(pk=conversation.contact_id).update(responsible=manager, department=sales)
    _record(channel, conversation, "m1", "Здравствуйте")
    path = f"/api/v1/conversations/{conversation.pk}"
    # then its responsible manager reads it
    assert api_as(manager).get(path).status_code == 200
    # and a manager of another department is told it does not exist, like the card itself
    outsider = api_as(UserFactory(department=service))
    assert outsider.get(path).status_code == 404
    assert outsider.get(f"/api/v1/contacts/{conversation.contact_id}").status_code == 404
    assert outsider.get(path).json() == {"detail": "Not found"}
    # and nobody without a token
    assert api_as(None).get(path).status_code == 401


def test_a_deleted_cards_conversation_is_gone_and_an_unknown_one_is_404(api, admin_user, db):
    channel = make_channel(kind="jivo", name="Сайт")
    conversation = _chat(channel)
    contact_delete(actor=admin_user, contact=conversation.contact)
    assert api.get(f"/api/v1/conversations/{conversation.pk}").status_code == 404
    assert api.get("/api/v1/conversations/999999").status_code == 404


# -- helpers ---------------------------------------------------------------------------------------------

class ReplyingAdapter(ChannelAdapter):
    kind = "replying-test"
    can_reply = True

    def send(self, channel, conversation, message):
        return "sent-1"


@pytest.fixture
def replying():
    adapter = ReplyingAdapter()
    adapters.register(adapter)
    yield adapter
    adapters._adapters.pop(adapter.kind)


START = timezone.now().replace(microsecond=0) - timedelta(hours=1)


def _chat(channel) -> Conversation:
    """A chat opened by an event with no text, as Jivo's chat_accepted opens one."""
    item = InboundItem(conversation_kind="chat", thread_id="t1", message_id="accepted",
                       sender=Sender(name="Ольга", phones=["+7 916 123-45-67"]), occurred_at=START)
    inbound_item_record(channel=channel, item=item)
    return Conversation.objects.get(channel=channel, external_id="t1")


def _record(channel, conversation, message_id: str, text: str, minutes: int = 1) -> None:
    item = InboundItem(conversation_kind="chat", thread_id=conversation.external_id, message_id=message_id,
                       sender=Sender(name="Ольга", phones=["+7 916 123-45-67"]), text=text,
                       occurred_at=START + timedelta(minutes=minutes))
    inbound_item_record(channel=channel, item=item)

