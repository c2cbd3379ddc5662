import json
from datetime import timedelta

from django.utils import timezone

from okno.contacts.models import Contact, ContactPhone
from okno.contacts.tests.factories import make_contact
from okno.deals.models import Lead
from okno.inbox.drain import MAX_ATTEMPTS, inbound_drain
from okno.inbox.models import Conversation, InboundEvent, Message
from okno.inbox.tests.factories import make_channel
from okno.people.models import User
from okno.people.tests.factories import DepartmentFactory, UserFactory
from okno.timeline.models import Activity


def post_form(client, channel, body: dict, **extra):
    return client.post(channel.webhook_path, data=body, **extra)


def test_channel_created_over_the_api_has_url_and_secret(api):
    r = api.post("/api/v1/channels", {"kind": "form", "name": "Сайт", "settings": {}})
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["webhook_url"].startswith("http://") and "/hooks/form/" in body["webhook_url"]
    assert len(body["secret"]) >= 24
    bad = api.post("/api/v1/channels", {"kind": "fax", "name": ""})
    assert bad.status_code == 400
    assert {e["field"] for e in bad.json()["errors"]} == {"kind", "name"}


def test_form_submission_is_stored_then_becomes_card_conversation_and_routed_lead(db, client):
    # given a channel of the sales department with two managers at work
    sales = DepartmentFactory(name="Продажи")
    first, second = UserFactory(department=sales), UserFactory(department=sales)
    channel = make_channel(department=sales)
    # when a form arrives
    r = post_form(client, channel, {"name": "Ольга Смирнова", "phone": "8 (916) 123-45-67", "message": "Нужен счёт",
                                    "utm_source": "yandex"})
    # then it is stored and acknowledged before any processing
    assert r.status_code == 200 and r.json() == {"result": "ok"}
    event = InboundEvent.objects.get()
    assert event.status == InboundEvent.Status.RECEIVED and b"Nuzhen" not in bytes(event.body)
    assert not Contact.objects.exists()
    # when the worker drains
    assert inbound_drain() == 1
    # then a card with the normalised phone, a conversation on its timeline and a routed lead exist
    contact = Contact.objects.get()
    assert (contact.first_name, contact.last_name) == ("Ольга", "Смирнова")
    assert ContactPhone.objects.get(contact=contact).e164 == "+79161234567"
    conv = Conversation.objects.get()
    assert conv.contact == contact and conv.kind == "form" and conv.utm == {"source": "yandex"}
    assert Message.objects.get().text == "Нужен счёт"
    assert Activity.objects.filter(contact=contact, kind="form").count() == 1
    lead = Lead.objects.get()
    assert lead.routed_by == "round_robin" and lead.assignee in (first, second) and lead.utm == {"source": "yandex"}
    assert InboundEvent.objects.get().status == InboundEvent.Status.DONE
    # and the next new customer goes to the other manager
    post_form(client, channel, {"name": "Пётр", "phone": "+7 903 111-22-33"})
    inbound_drain()
    assert {lead.assignee_id for lead in Lead.objects.all()} == {first.pk, second.pk}


def test_a_replay_creates_nothing_twice(db, client):
    channel = make_channel()
    body = {"name": "Ольга", "phone": "+7 916 123-45-67"}
    post_form(client, channel, body)
    assert post_form(client, channel, body).status_code == 200
    inbound_drain()
    assert InboundEvent.objects.count() == 1
    # even when the same event is processed again (a worker died after committing)
    InboundEvent.objects.update(status=InboundEvent.Status.RECEIVED)
    inbound_drain()
    assert (Contact.objects.count(), Conversation.objects.count(), Message.objects.count(), Lead.objects.count()) == (
        1, 1, 1, 1)


def test_known_customer_is_found_by_phone_in_another_format_and_keeps_responsible(db, client):
    manager = UserFactory()
    known = make_contact(actor=manager, phones=["+7 916 123-45-67"])
    channel = make_channel()
    post_form(client, channel, {"name": "Иван", "phone": "89161234567", "message": "Ещё вопрос"})
    inbound_drain()
    assert Contact.objects.count() == 1
    lead = Lead.objects.get()
    assert lead.contact == known and lead.assignee == manager and lead.routed_by == "responsible"
    # a second conversation while the lead is open attaches to it
    post_form(client, channel, {"name": "Иван", "phone": "9161234567", "message": "И ещё"})
    inbound_drain()
    assert Lead.objects.count() == 1 and Conversation.objects.count() == 2


def test_nobody_at_work_goes_to_the_fallback_queue(db, client):
    sales = DepartmentFactory()
    UserFactory(department=sales, at_work=False)
    fallback = UserFactory(role=User.Role.OPERATOR)
    channel = make_channel(department=sales, fallback_user=fallback)
    post_form(client, channel, {"phone": "+7 916 000-00-01"})
    inbound_drain()
    assert Lead.objects.get().assignee == fallback and Lead.objects.get().routed_by == "fallback"


def test_wrong_token_is_refused_and_stores_nothing(db, client):
    make_channel()
    assert client.post("/hooks/form/not-the-token/", {"phone": "1"}).status_code == 404
    assert not InboundEvent.objects.exists()


def test_malformed_and_spam_are_stored_and_flagged_not_lost(db, client):
    channel = make_channel()
    r = client.post(channel.webhook_path, data="{not json", content_type="application/json")
    assert r.status_code == 200
    post_form(client, channel, {"name": "Bot", "phone": "+7 916 000-00-02", "website": "http://spam"})
    client.post(channel.webhook_path, data=b"\x00\x01", content_type="application/octet-stream")
    inbound_drain()
    statuses = sorted(InboundEvent.objects.values_list("status", flat=True))
    assert statuses == ["ignored", "rejected", "rejected"]
    assert not Contact.objects.exists() and not Lead.objects.exists()


def test_oversized_body_is_413(db, client, settings):
    settings.OKNO_HOOK_MAX_BYTES = 100
    channel = make_channel()
    assert post_form(client, channel, {"message": "x" * 200, "phone": "+79161234567"}).status_code == 413
    assert not InboundEvent.objects.exists()


def test_a_failing_event_is_retried_then_waits_for_a_person(db, client, monkeypatch, api):
    channel = make_channel()
    post_form(client, channel, {"name": "Ольга", "phone": "+7 916 123-45-67"})
    post_form(client, channel, {"name": "Пётр", "phone": "+7 903 111-22-33"})
    import okno.inbox.drain as drain

    original = drain.inbound_item_record

    def broken(*, channel, item):
        if item.sender.name == "Ольга":
            raise RuntimeError("boom")
        return original(channel=channel, item=item)

    monkeypatch.setattr(drain, "inbound_item_record", broken)
    # the one-by-one path (the batch path's own failure is in test_inbound_batch.py)
    monkeypatch.setattr(drain, "inbound_events_record_new_customers", lambda events: events)
    inbound_drain()
    # one bad event does not hold back the other
    assert Contact.objects.get().first_name == "Пётр"
    bad = InboundEvent.objects.get(status=InboundEvent.Status.RECEIVED)
    assert "boom" in bad.error and bad.attempts == 1 and bad.run_after > timezone.now()
    for _ in range(MAX_ATTEMPTS):
        InboundEvent.objects.filter(pk=bad.pk).update(run_after=timezone.now())
        inbound_drain()
    bad.refresh_from_db()
    assert bad.status == InboundEvent.Status.FAILED
    listed = api.get("/api/v1/inbound-events", status="failed").json()
    assert [e["id"] for e in listed] == [bad.pk]
    # a person presses "process again" after the fix
    monkeypatch.setattr(drain, "inbound_item_record", original)
    assert api.post(f"/api/v1/inbound-events/{bad.pk}/retry").json()["status"] == "received"
    inbound_drain()
    assert Contact.objects.filter(first_name="Ольга").exists()


def test_an_event_claimed_by_a_killed_worker_is_processed_after_its_lease(db, client):
    channel = make_channel()
    post_form(client, channel, {"name": "Ольга", "phone": "+7 916 123-45-67"})
    # a worker claimed it and died: the lease is held, nothing was processed
    InboundEvent.objects.update(locked_until=timezone.now() + timedelta(seconds=60), attempts=1)
    assert inbound_drain() == 0
    InboundEvent.objects.update(locked_until=timezone.now() - timedelta(seconds=1))
    assert inbound_drain() == 1
    assert Contact.objects.count() == 1


def test_json_form_and_leads_api(db, client, api):
    channel = make_channel()
    r = client.post(channel.webhook_path, data=json.dumps({"name": "Анна", "email": "Anna@Example.com"}),
                    content_type="application/json")
    assert r.status_code == 200
    inbound_drain()
    contact = Contact.objects.get()
    assert contact.emails.get().email == "anna@example.com"
    leads = api.get("/api/v1/leads", contact=contact.pk).json()
    assert len(leads) == 1 and leads[0]["source"] == "Сайт"
    acts = api.get(f"/api/v1/contacts/{contact.pk}/activities").json()
    assert [a["kind"] for a in acts] == ["form"]


def test_someone_else_in_a_thread_does_not_move_the_conversation(db):
    from okno.inbox.items import InboundItem, Sender
    from okno.inbox.services import inbound_item_record

    channel = make_channel(kind="email")  # an e-mail's From is the provider's, not typed

    def item(email, message_id, phones=()):
        return InboundItem(conversation_kind="email", thread_id="t-1", message_id=message_id, text="...",
                           sender=Sender(name="X", emails=[email], phones=list(phones)))

    # given a conversation with a customer
    inbound_item_record(channel=channel, item=item("client@firm.ru", "m1"))
    customer = Conversation.objects.get().contact
    # when a colleague in copy answers in the same thread
    inbound_item_record(channel=channel, item=item("colleague@firm.ru", "m2"))
    # then the conversation stays on the customer's card
    assert Conversation.objects.get().contact == customer and Message.objects.count() == 2
    # and when the customer later gives a phone that is another card of theirs, the cards merge
    other = make_contact(first_name="Клиент", phones=["+7 916 555-44-33"])
    inbound_item_record(channel=channel, item=item("client@firm.ru", "m3", phones=["89165554433"]))
    kept = Conversation.objects.get().contact
    assert kept.pk == min(customer.pk, other.pk)
    assert Contact.objects.get(pk=max(customer.pk, other.pk)).status == Contact.Status.MERGED


def test_a_form_with_one_card_s_phone_and_another_s_e_mail_merges_nothing(db):
    from okno.inbox.items import InboundItem, Sender
    from okno.inbox.services import inbound_item_record

    # given: a husband's card with his mobile, his wife's with her e-mail
    husband = make_contact(first_name="Иван", last_name="Петров", phones=["+7 916 555-44-33"])
    wife = make_contact(first_name="Мария", last_name="Петрова", emails=["maria@example.ru"])
    # when: she fills the site's form with her e-mail and his phone
    inbound_item_record(channel=make_channel(kind="form"), item=InboundItem(
        conversation_kind="form", thread_id="f-1", message_id="f-1", text="Перезвоните",
        sender=Sender(name="Мария", emails=["maria@example.ru"], phones=["89165554433"])))
    # then: both cards stay; the submission lands on one of them
    assert set(Contact.objects.filter(status=Contact.Status.ACTIVE).values_list("pk", flat=True)) >= {
        husband.pk, wife.pk}
    assert Conversation.objects.get().contact_id in (husband.pk, wife.pk)
