import json
from pathlib import Path
from urllib.parse import urlencode

from okno.contacts.models import Contact
from okno.deals.models import Lead
from okno.inbox.drain import inbound_drain
from okno.inbox.models import Conversation, InboundEvent, Message
from okno.inbox.tests.factories import make_channel

PAYLOADS = Path(__file__).parent / "payloads" / "tilda"


def payload(name: str) -> dict:
    return json.loads((PAYLOADS / f"{name}.json").read_text(encoding="utf-8"))["fields"]


def post_tilda(client, channel, fields: dict):
    """As Tilda sends it: application/x-www-form-urlencoded."""
    return client.post(channel.webhook_path, data=urlencode(fields), content_type="application/x-www-form-urlencoded")


def test_probe_is_answered_200_kept_once_and_never_becomes_a_lead(db, client):
    # given a Tilda channel
    channel = make_channel(kind="tilda", name="Лендинг")
    # when Tilda sends its test request, twice (re-saving the webhook settings)
    first = post_tilda(client, channel, payload("probe"))
    second = post_tilda(client, channel, payload("probe"))
    # then both are answered 200 at once, and one row is kept
    assert (first.status_code, second.status_code) == (200, 200)
    assert first.content == b"ok"
    event = InboundEvent.objects.get()
    assert (event.dedup_key, event.event_type) == ("tilda:test", "test")
    # and the worker marks it ignored, with no card, conversation or lead
    inbound_drain()
    event.refresh_from_db()
    assert event.status == InboundEvent.Status.IGNORED and "test" in event.error
    assert not Contact.objects.exists() and not Conversation.objects.exists() and not Lead.objects.exists()


def test_submission_becomes_card_conversation_and_lead_with_utm_and_page(db, client):
    channel = make_channel(kind="tilda", name="Лендинг")
    r = post_tilda(client, channel, payload("submission"))
    assert r.status_code == 200
    assert inbound_drain() == 1
    contact = Contact.objects.get()
    assert (contact.first_name, contact.last_name) == ("Ольга", "Смирнова")
    assert list(contact.phones.values_list("e164", flat=True)) == ["+79161234567"]
    assert list(contact.emails.values_list("email", flat=True)) == ["olga@example.ru"]
    conv = Conversation.objects.get()
    assert conv.kind == "form" and conv.external_id == "tilda:1234567:8901234" and conv.subject == "Заявка"
    assert conv.utm == {"source": "yandex", "medium": "cpc", "campaign": "spring"}
    assert conv.page_url == "https://shop.example.ru/tariffs?utm_source=yandex"
    message = Message.objects.get()
    assert message.text == "Textarea: Нужна консультация по тарифам"
    assert message.meta["formid"] == "form123456789" and message.meta["fields"]["Name"] == "Ольга Смирнова"
    lead = Lead.objects.get()
    assert lead.contact == contact and lead.utm == conv.utm and lead.source == "Лендинг"


def test_tildas_retries_of_one_submission_are_one_event(db, client):
    # given Tilda did not get its answer within 5 s and sends the submission twice more
    channel = make_channel(kind="tilda")
    for _attempt in range(3):
        assert post_tilda(client, channel, payload("submission")).status_code == 200
    # then one event under Tilda's tranid, one conversation and one lead
    assert list(InboundEvent.objects.values_list("dedup_key", flat=True)) == ["tilda:1234567:8901234"]
    inbound_drain()
    assert (Conversation.objects.count(), Message.objects.count(), Lead.objects.count()) == (1, 1, 1)


def test_utm_from_tildas_cookie_when_no_hidden_fields(db, client):
    channel = make_channel(kind="tilda")
    post_tilda(client, channel, payload("submission_cookie_utm"))
    inbound_drain()
    conv = Conversation.objects.get()
    assert conv.utm == {"source": "google", "medium": "cpc"}
    assert "COOKIES" not in Message.objects.get().meta["fields"]


def test_api_key_when_configured_is_required_except_for_the_probe(db, client):
    channel = make_channel(kind="tilda", settings={"api_key_name": "apikey", "api_key": "s3cret-key"})
    assert post_tilda(client, channel, payload("submission")).status_code == 403
    assert post_tilda(client, channel, {**payload("submission"), "apikey": "wrong"}).status_code == 403
    assert not InboundEvent.objects.exists()
    assert post_tilda(client, channel, {**payload("submission"), "apikey": "s3cret-key"}).status_code == 200
    assert post_tilda(client, channel, payload("probe")).status_code == 200
    inbound_drain()
    # the key is a secret of ours, not something the customer wrote: it is not kept with the message
    assert "apikey" not in Message.objects.get().meta["fields"]
    assert sorted(InboundEvent.objects.values_list("status", flat=True)) == ["done", "ignored"]


def test_submission_without_contact_fields_is_kept_and_rejected(db, client):
    channel = make_channel(kind="tilda")
    post_tilda(client, channel, {"Textarea": "?", "tranid": "1:2"})
    inbound_drain()
    event = InboundEvent.objects.get()
    assert event.status == InboundEvent.Status.REJECTED and "no name, phone or e-mail" in event.error
