"""Jivo webhooks end to end: the recorded payloads (PROTOCOLS.md section 1) through
/hooks/jivo/<token>/, the operator's card in the reply, then the worker's drain."""

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from okno.contacts.models import Contact, ContactEmail, ContactPhone, MessengerHandle
from okno.contacts.tests.factories import make_contact
from okno.deals.models import Lead
from okno.inbox.adapters.base import Malformed
from okno.inbox.adapters.jivo import ident
from okno.inbox.drain import inbound_drain
from okno.inbox.models import Conversation, InboundEvent, Message
from okno.inbox.tests.factories import make_channel
from okno.people.tests.factories import UserFactory

PAYLOADS = Path(__file__).parent / "payloads" / "jivo"


def payload(name: str) -> dict:
    return json.loads((PAYLOADS / f"{name}.json").read_text())


def post(client, channel, body, content_type="application/json"):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body, ensure_ascii=False)
    return client.post(channel.webhook_path, data=data, content_type=content_type)


@pytest.fixture
def jivo(db):
    return make_channel(kind="jivo", name="Jivo")


def at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def rows() -> tuple[int, ...]:
    return (Contact.objects.count(), Conversation.objects.count(), Message.objects.count(), Lead.objects.count())


def test_jivo_channel_is_created_over_the_api_with_its_url(api):
    r = api.post("/api/v1/channels", {"kind": "jivo", "name": "Jivo", "settings": {}})
    assert r.status_code == 201, r.content
    assert "/hooks/jivo/" in r.json()["webhook_url"]


def test_documented_chat_accepted_of_a_new_visitor_then_card_chat_and_lead(jivo, client):
    # given an operator known to Okno by the e-mail Jivo sends
    operator = UserFactory(email="agent@jivosite.com")
    # when Jivo reports the accepted chat
    r = post(client, jivo, payload("chat_accepted"))
    # then the reply says a new customer, and nothing but the raw event is written yet
    assert r.status_code == 200
    assert r.json() == {"result": "ok", "enable_assign": False,
                        "custom_data": [{"title": "Клиент", "content": "Новый клиент: в CRM карточки нет"}]}
    event = InboundEvent.objects.get()
    assert event.event_type == "chat_accepted" and event.dedup_key.startswith("jivo:7636:chat_accepted:")
    assert rows() == (0, 0, 0, 0)
    # when the worker drains
    assert inbound_drain() == 1
    # then the card carries the visitor's phone, e-mail and Jivo visitor number
    contact = Contact.objects.get()
    assert (contact.first_name, contact.last_name, contact.city) == ("John", "Smith", "San Francisco")
    assert list(ContactPhone.objects.values_list("e164", flat=True)) == ["+14084987855"]
    assert list(ContactEmail.objects.values_list("email", flat=True)) == ["email@example.com"]
    assert set(MessengerHandle.objects.values_list("kind", "handle")) == {("jivo_visitor", "3948:2198")}
    # and a chat with its KPI facts: accepted when Jivo told us, by whom
    conv = Conversation.objects.get()
    assert (conv.kind, conv.external_id, conv.contact) == ("chat", "jivo:3948:7636", contact)
    assert conv.accepted_at == InboundEvent.objects.get().received_at
    assert (conv.operator, conv.operator_name) == (operator, "Thomas Anderson")
    assert conv.utm == {"source": "google", "campaign": "campaign_name", "content": "banner", "medium": "cpc",
                        "term": "..."}
    assert conv.page_url == "http://example.com/" and conv.subject == "Topic_1"
    assert (conv.first_reply_at, conv.finished_at, conv.missed) == (None, None, False)
    assert not Message.objects.exists()
    lead = Lead.objects.get()
    assert (lead.contact, lead.conversation) == (contact, conv)
    assert InboundEvent.objects.get().status == InboundEvent.Status.DONE


def test_chat_accepted_reply_shows_known_customer_found_by_phone_in_another_format(jivo, client, settings,
                                                                                    django_assert_max_num_queries):
    # given a customer with a responsible manager, an open lead, two earlier chats and tags
    settings.SITE_URL = "https://crm.example.ru/"
    manager = UserFactory(first_name="Мария", last_name="Иванова")
    known = make_contact(actor=manager, first_name="Ольга", last_name="Смирнова", phones=["+7 916 123-45-67"],
                         emails=["olga@example.ru"], tags=["VIP", "опт"], company="ООО Ромашка")
    Contact.objects.filter(pk=known.pk).update(responsible=manager)
    other = make_channel(kind="form", name="Сайт")
    for i in range(2):
        Conversation.objects.create(channel=other, contact=known, kind="form", external_id=f"f{i}")
    Lead.objects.create(contact=known, status=Lead.Status.NEW)
    Lead.objects.create(contact=known, status=Lead.Status.LOST)
    before = rows()
    # when Jivo reports a chat whose visitor typed the phone as 8 (916) ...; ids come as numbers
    # (the channel, the event's insert in its savepoint, one look-up of the card, the card, its tags)
    with django_assert_max_num_queries(7):
        r = post(client, jivo, payload("ru_chat_accepted_int_ids"))
    # then the operator sees the card, its counts and the link, and nothing was written but the event
    assert r.status_code == 200
    assert r.json() == {
        "result": "ok",
        "contact_info": {"name": "Ольга Смирнова", "phone": "+7 916 123-45-67", "email": "olga@example.ru"},
        "custom_data": [
            {"title": "Ответственный", "content": "Мария Иванова"},
            {"title": "Компания", "content": "ООО Ромашка"},
            {"title": "Открытые лиды", "content": "1"},
            {"title": "Чатов и звонков ранее", "content": "2"},
            {"title": "Теги", "content": "VIP, опт"},
        ],
        "crm_link": f"https://crm.example.ru/contacts/{known.pk}/",
        "enable_assign": False,
    }
    assert rows() == before and InboundEvent.objects.count() == 1
    # and chat_updated of the same chat gets the same card, the chat itself not counted as earlier
    inbound_drain()
    again = post(client, jivo, {**payload("ru_chat_accepted_int_ids"), "event_name": "chat_updated"})
    assert again.json()["custom_data"][3] == {"title": "Чатов и звонков ранее", "content": "2"}
    assert Conversation.objects.get(channel=jivo).contact == known


def test_card_is_found_by_jivo_user_token_before_phone(jivo, client):
    # given the site's user token on one card and the visitor's phone on another
    by_token = make_contact(first_name="Токен", handles=[{"kind": "jivo", "handle": "shop-user-777"}])
    make_contact(first_name="Телефон", phones=["+79161234567"])
    # when the chat is accepted
    r = post(client, jivo, payload("ru_chat_accepted_int_ids"))
    # then the token's card is shown, and the worker attaches the chat to it (and merges the other)
    assert r.json()["crm_link"].endswith(f"/contacts/{by_token.pk}/")
    inbound_drain()
    assert Conversation.objects.get().contact_id == by_token.pk


def test_chat_finished_transcript_becomes_messages_with_directions_and_facts(jivo, client):
    # given an accepted chat
    post(client, jivo, payload("ru_chat_accepted_int_ids"))
    inbound_drain()
    # when Jivo sends the finished chat with its transcript (ids and timestamps as strings)
    r = post(client, jivo, payload("ru_chat_finished_str_ids"))
    assert r.status_code == 200 and r.json() == {"result": "ok"}
    inbound_drain()
    # then each line is a message, in or out by who wrote it
    conv = Conversation.objects.get()
    assert list(conv.messages.values_list("external_id", "direction", "author_name", "text", "sent_at")) == [
        ("1732291200:0", "in", "Ольга Смирнова", "Здравствуйте, есть ли доставка в Тверь?", at(1732291200)),
        ("1732291260:1", "out", "Анна Операторова", "Добрый день! Да, 2 дня.", at(1732291260)),
        ("1732291300:2", "in", "Ольга Смирнова", "Отлично, оформляю", at(1732291300)),
    ]
    finished = InboundEvent.objects.get(event_type="chat_finished")
    assert conv.first_reply_at == at(1732291260) and conv.finished_at == finished.received_at
    assert (conv.rating, conv.missed, conv.accepted_at is not None) == ("positive", False, True)
    # and one card (phone in two formats, the visitor number as "5501" and 5501), one lead
    assert (Contact.objects.count(), Lead.objects.count()) == (1, 1)
    assert set(MessengerHandle.objects.values_list("kind", "handle")) == {
        ("jivo", "shop-user-777"), ("jivo_visitor", "3948:5501")}
    # when the same event is processed again (a worker died after committing) and re-delivered
    InboundEvent.objects.update(status=InboundEvent.Status.RECEIVED)
    inbound_drain()
    post(client, jivo, payload("ru_chat_finished_str_ids"))
    # then nothing is doubled
    assert InboundEvent.objects.count() == 2
    assert rows() == (1, 1, 3, 1)


def test_documented_chat_finished_alone_records_the_chat(jivo, client):
    post(client, jivo, payload("chat_finished"))
    inbound_drain()
    conv = Conversation.objects.get()
    assert conv.external_id == "jivo:3948:7607" and conv.started_at == at(1665396476)
    assert list(conv.messages.values_list("direction", flat=True)) == ["in", "out"]
    assert (conv.first_reply_at, conv.rating, conv.missed, conv.operator_name) == (
        at(1665396483), "", False, "Thomas Anderson")
    assert Lead.objects.get().conversation == conv


def test_a_retry_is_one_event_but_two_updates_of_one_chat_are_two(jivo, client):
    body = payload("chat_updated")
    post(client, jivo, body)
    # the same delivery again, even serialised in another key order
    post(client, jivo, json.dumps(dict(reversed(list(body.items())))))
    assert InboundEvent.objects.count() == 1
    # a later update of the same chat says something new: kept
    post(client, jivo, {**body, "visitor": {**body["visitor"], "phone": "+7 903 111-22-33"}})
    assert InboundEvent.objects.count() == 2
    inbound_drain()
    conv = Conversation.objects.get()
    assert conv.accepted_at is None  # only chat_accepted says when
    assert set(ContactPhone.objects.filter(contact=conv.contact).values_list("e164", flat=True)) == {
        "+14084987855", "+79031112233"}


def test_offline_message_is_a_missed_chat_with_its_text(jivo, client):
    post(client, jivo, payload("offline_message"))
    inbound_drain()
    conv = Conversation.objects.get()
    assert (conv.external_id, conv.missed, conv.accepted_at) == ("jivo:3948:2026", True, None)
    message = conv.messages.get()
    assert (message.direction, message.text, message.external_id) == ("in", "Message text", "offline:1665399500726")
    assert Lead.objects.get().conversation == conv


def test_callback_request_is_a_note_in_the_chat_and_opens_a_lead(jivo, client):
    post(client, jivo, payload("call_event"))
    inbound_drain()
    conv = Conversation.objects.get()
    assert conv.external_id == "jivo:2853:4398"
    message = conv.messages.get()
    assert message.text == ("Заявка на обратный звонок: +14084987855, статус: завершён, "
                            "запись: http://example.com/record.mp3")
    assert message.meta["call"]["type"] == "callback"
    assert ContactPhone.objects.get().e164 == "+14084987855"
    assert Lead.objects.count() == 1


def test_client_updates_enrich_the_card_without_a_conversation_or_lead(jivo, client):
    # when the operator edits the client in Jivo (client_id "1217", visitor.number 1217)
    assert post(client, jivo, payload("client_updated")).json() == {"result": "ok"}
    inbound_drain()
    # then the card knows the client by the token and the visitor number; no chat, no lead
    contact = Contact.objects.get()
    assert set(contact.handles.values_list("kind", "handle")) == {("jivo", "user-42"),
                                                                  ("jivo_visitor", "12345678:1217")}
    assert rows() == (1, 0, 0, 0)
    # when an attribute update brings a phone (client_id as a number this time)
    post(client, jivo, payload("client_attribute_updated"))
    inbound_drain()
    # then the same card gets it
    assert set(ContactPhone.objects.filter(contact=contact).values_list("e164", flat=True)) == {
        "+14084987855", "+79161234567"}
    assert rows() == (1, 0, 0, 0)
    assert set(InboundEvent.objects.values_list("status", flat=True)) == {InboundEvent.Status.DONE}


def test_attribute_update_with_nothing_to_match_is_ignored_not_a_blank_card(jivo, client):
    post(client, jivo, {"event_name": "client_attribute_updated", "widget_id": "1", "client_id": 5,
                        "attributes": {"loyalty": "gold"}})
    inbound_drain()
    assert InboundEvent.objects.get().status == InboundEvent.Status.IGNORED
    assert not Contact.objects.exists()


def test_legacy_chat_assigned_is_accepted_and_marked_ignored(jivo, client):
    assert post(client, jivo, payload("chat_assigned")).json() == {"result": "ok"}
    inbound_drain()
    assert InboundEvent.objects.get().status == InboundEvent.Status.IGNORED
    assert rows() == (0, 0, 0, 0)


@pytest.mark.parametrize("body, content_type, field, status", [
    ("{not json", "application/json", "not JSON", 400),
    ("[1, 2]", "application/json", "body", 400),
    ("name=Ivan&phone=123", "application/x-www-form-urlencoded", "not JSON", 400),
    ({"widget_id": "1", "chat_id": 1}, "application/json", "event_name", 400),
    ({"event_name": "chat_accepted", "widget_id": "1"}, "application/json", "chat_id", 400),
    ({"event_name": "chat_accepted", "chat_id": {"id": 1}}, "application/json", "chat_id", 400),
    # Only the card events are read on the request path; the rest is found out by the worker.
    ({"event_name": "chat_finished", "chat_id": 7, "chat": {"messages": [{"timestamp": "вчера"}]}},
     "application/json", "chat.messages[0].timestamp", 200),
    ({"event_name": "offline_message", "message": "без номера"}, "application/json", "offline_message_id", 200),
])
def test_unreadable_input_is_stored_rejected_and_answered_with_the_reason(jivo, client, body, content_type, field,
                                                                         status):
    r = post(client, jivo, body, content_type)
    assert r.status_code == status
    if status == 400:
        assert r.json()["errors"][0]["field"] == field
    inbound_drain()
    event = InboundEvent.objects.get()
    assert event.status == InboundEvent.Status.REJECTED and field in event.error
    assert rows() == (0, 0, 0, 0)


def test_json_with_another_content_type_is_still_read(jivo, client):
    post(client, jivo, payload("offline_message"), content_type="text/plain")
    inbound_drain()
    assert InboundEvent.objects.get().status == InboundEvent.Status.DONE and Message.objects.count() == 1


def test_unknown_event_is_kept_and_acknowledged(jivo, client):
    r = post(client, jivo, {"event_name": "chat_transferred", "chat_id": 1})
    assert (r.status_code, r.json()) == (200, {"result": "ok"})
    inbound_drain()
    assert InboundEvent.objects.get().status == InboundEvent.Status.UNKNOWN


def test_wrong_token_and_oversized_body_store_nothing(jivo, client, settings):
    r = client.post("/hooks/jivo/guessed-token/", data=json.dumps(payload("chat_accepted")),
                    content_type="application/json")
    assert r.status_code == 404
    settings.OKNO_HOOK_MAX_BYTES = 1000
    assert post(client, jivo, payload("chat_finished")).status_code == 413
    assert not InboundEvent.objects.exists()


def test_ids_are_read_as_numbers_or_strings():
    assert (ident(7636, "chat_id"), ident("7636", "chat_id"), ident(None, "chat_id")) == ("7636", "7636", "")
    for bad in (True, 1.5, [1], "12 34"):
        with pytest.raises(Malformed):
            ident(bad, "chat_id")
