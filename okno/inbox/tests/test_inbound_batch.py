"""The drain's batch path writes exactly what the one-by-one path writes.

One mixed batch (independent new customers of every channel kind, a known customer, two
events of one new customer, two chats of one visitor, a malformed body) is drained once with the
batch path and once without, inside rolled-back transactions, and everything a person could see
is compared by natural keys (ids and clock times differ between the runs by design).
"""

import json
from pathlib import Path

import pytest
from django.db import transaction

import okno.inbox.batch as batch
from okno.contacts.models import Contact, ContactMatchKey, FieldChange
from okno.contacts.tests.factories import make_contact
from okno.deals.models import Lead
from okno.inbox.drain import inbound_drain
from okno.inbox.models import Conversation, InboundEvent, Message
from okno.inbox.tests.factories import make_channel
from okno.people.models import User
from okno.people.tests.factories import DepartmentFactory, UserFactory
from okno.timeline.models import Activity

PAYLOADS = Path(__file__).parent / "payloads"


def payload(path: str) -> bytes:
    return (PAYLOADS / path).read_bytes()


def card(contact: Contact) -> tuple:
    return (contact.last_name, contact.first_name, contact.middle_name,
            tuple(sorted(contact.phones.values_list("e164", flat=True))),
            tuple(sorted(contact.emails.values_list("email", flat=True))),
            tuple(sorted(contact.handles.values_list("kind", "handle"))))


def who(user: User | None) -> str:
    return user.username if user else ""


def snapshot() -> dict:
    """Everything the inbound path writes, keyed by what it is rather than by id."""
    contacts = Contact.objects.order_by("pk")
    return {
        "contacts": sorted(
            (card(c), c.source, c.city, c.status, who(c.responsible), c.department_id, c.search_text, c.dedup_dirty,
             tuple(sorted(ContactMatchKey.objects.filter(contact=c).values_list("key", flat=True))),
             tuple(sorted(FieldChange.objects.filter(contact=c).values_list("field", "old", "new"))))
            for c in contacts),
        "conversations": sorted(
            (c.channel.name, c.external_id, c.kind, card(c.contact), c.subject, who(c.operator), c.operator_name,
             c.accepted_at, c.first_reply_at, c.finished_at, c.rating, c.missed, json.dumps(c.utm, sort_keys=True),
             c.page_url)
            for c in Conversation.objects.all()),
        "messages": sorted(
            (m.conversation.external_id, m.direction, m.external_id, m.author_name, m.text, m.html,
             json.dumps(m.meta, sort_keys=True))
            for m in Message.objects.all()),
        "leads": sorted(
            (card(lead.contact), lead.conversation.external_id if lead.conversation else "", lead.title, lead.source,
             json.dumps(lead.utm, sort_keys=True), who(lead.assignee), lead.routed_by, lead.department_id, lead.status)
            for lead in Lead.objects.all()),
        "activities": sorted((card(a.contact), a.kind, a.summary, a.detail_type.model if a.detail_type else "")
                             for a in Activity.objects.all()),
        "events": [(e.pk, e.status, bool(e.error)) for e in InboundEvent.objects.order_by("pk")],
        "turns": sorted(User.objects.filter(last_lead_at__isnull=False).values_list("username", flat=True)),
    }


def drained(batch_path: bool) -> dict:
    with transaction.atomic():
        inbound_drain(batch_path=batch_path)
        state = snapshot()
        transaction.set_rollback(True)
    return state


@pytest.fixture
def mixed_batch(db, client):
    sales = DepartmentFactory(name="Продажи")
    for name in ("m1", "m2", "m3"):
        UserFactory(username=name, department=sales)
    UserFactory(username="anna", email="Anna@okno.example")
    duty = UserFactory(username="duty")
    form = make_channel(kind="form", name="Сайт", department=sales, settings={"submissions_per_minute": 1000})
    jivo = make_channel(kind="jivo", name="Jivo", fallback_user=duty)
    telegram = make_channel(kind="telegram", name="Бот", settings={"bot_token": "1:x", "fetch_files": False})
    known = make_contact(first_name="Кира", phones=["+7 999 000-11-22"], responsible_id=duty.pk)

    def form_post(**fields):
        assert client.post(form.webhook_path, data=fields).status_code == 200

    def json_post(channel, body: bytes, **headers):
        assert client.post(channel.webhook_path, data=body, content_type="application/json",
                           headers=headers).status_code == 200

    tg = {"X-Telegram-Bot-Api-Secret-Token": telegram.secret}
    form_post(name="Ольга Петрова", phone="8 (903) 100-00-01", message="Нужен счёт", utm_source="yandex")
    form_post(name="Борис", email="Boris@Example.ru", message="Перезвоните", tranid="t-2")
    json_post(jivo, payload("jivo/ru_chat_accepted_int_ids.json"))
    json_post(telegram, payload("telegram/text.json"), **tg)
    form_post(name="Без контактов", message="Просто вопрос", tranid="t-5")
    form_post(name="Кира", phone="89990001122", message="Это снова я")  # a known customer
    json_post(telegram, payload("telegram/malformed.json"), **tg)
    json_post(jivo, payload("jivo/chat_accepted.json"))  # two chats of one visitor
    json_post(jivo, payload("jivo/chat_finished.json"))
    form_post(name="Дина", phone="+7 903 100-00-09", message="Первое", tranid="t-10")  # one new customer twice
    form_post(name="Дина", phone="+7 903 100-00-09", message="Второе", tranid="t-11")
    assert InboundEvent.objects.count() == 11
    return known


def test_batch_path_writes_what_one_by_one_writes(mixed_batch, monkeypatch):
    taken = []
    original = batch._record

    def spy(fresh):
        taken.extend(f.event.pk for f in fresh)
        return original(fresh)

    monkeypatch.setattr(batch, "_record", spy)
    one_by_one = drained(batch_path=False)
    assert not taken
    in_bulk = drained(batch_path=True)
    # five independent new customers took the batch path; the related, known and bad ones did not
    assert len(taken) == 5
    for key in one_by_one:
        assert in_bulk[key] == one_by_one[key], key
    # and the expected things happened at all
    assert [s for _, s, _ in in_bulk["events"]].count("done") == 10
    assert {(lead[5], lead[6]) for lead in in_bulk["leads"]} >= {("m1", "round_robin"), ("m2", "round_robin"),
                                                                  ("m3", "round_robin"), ("duty", "responsible"),
                                                                  ("duty", "fallback"), ("", "unassigned")}
    assert any(c[5] == "anna" for c in in_bulk["conversations"])


def test_a_failing_bulk_write_falls_back_to_one_by_one(mixed_batch, monkeypatch):
    expected = drained(batch_path=False)

    def broken(fresh):
        Lead.objects.create(contact=mixed_batch, title="written before the failure, rolled back with it")
        raise RuntimeError("boom")

    monkeypatch.setattr(batch, "_record", broken)
    assert drained(batch_path=True) == expected


def test_a_new_customer_flood_is_written_in_a_few_queries(db, client, django_assert_max_num_queries):
    # a call centre: 50 people at work share the flood, and routing it is still one statement
    sales = DepartmentFactory(name="Продажи")
    members = [UserFactory(department=sales) for _ in range(50)]
    form = make_channel(kind="form", name="Сайт", department=sales, settings={"submissions_per_minute": 1000})
    for i in range(100):
        client.post(form.webhook_path, data={"name": f"Клиент {i}", "phone": f"+7 903 200-{i // 100:02d}-{i % 100:02d}",
                                             "message": "Вопрос", "tranid": f"f-{i}"})
    with django_assert_max_num_queries(40):
        assert inbound_drain() == 100
    assert Lead.objects.filter(routed_by="round_robin").count() == 100
    assert Contact.objects.count() == Conversation.objects.count() == Message.objects.count() == 100
    # each got two, and whoever got the batch's last lead is the last in line for the next one
    assert sorted(Lead.objects.values_list("assignee", flat=True)) == sorted([m.pk for m in members] * 2)
    last = Lead.objects.order_by("pk").last().assignee
    assert User.objects.filter(department=sales).order_by("last_lead_at").last() == last


def test_the_batch_path_tells_of_each_new_lead_and_card_as_one_by_one_does(db, client):
    # given a form flood drained on the batch path, with a listener of domain events
    from okno.core import events

    heard: list[tuple[str, int]] = []
    events.subscribe("lead.created", lambda e: heard.append((e.name, e.data["lead_id"])), key="test.batch.leads")
    events.subscribe("contact.created", lambda e: heard.append((e.name, e.data["contact_id"])),
                     key="test.batch.contacts")
    try:
        form = make_channel(kind="form", name="Сайт", settings={"submissions_per_minute": 1000})
        for i in range(5):
            client.post(form.webhook_path, data={"name": f"Клиент {i}", "phone": f"+7 903 300-00-{i:02d}",
                                                 "tranid": f"e-{i}"})
        # when the worker drains them
        assert inbound_drain() == 5
    finally:
        for name, key in (("lead.created", "test.batch.leads"), ("contact.created", "test.batch.contacts")):
            events._subscribers[name] = [(k, fn) for k, fn in events._subscribers.get(name, []) if k != key]
    # then robots and webhooks heard of every lead and every new card, once
    assert sorted(pk for name, pk in heard if name == "lead.created") == \
        sorted(Lead.objects.values_list("pk", flat=True))
    assert sorted(pk for name, pk in heard if name == "contact.created") == \
        sorted(Contact.objects.values_list("pk", flat=True))
