"""The demo's lived-in history: chats, Telegram, e-mail, web forms and calls on the cards."""

import re
from datetime import datetime, timedelta

import pytest
from django.core.files.storage import default_storage
from django.db.models import Count
from django.test import Client
from django.utils import timezone

from okno.contacts.models import Contact, MessengerHandle
from okno.demo import company as demo
from okno.demo.history import DAYS, PBX_NAME
from okno.inbox import adapters
from okno.inbox.models import Channel, Conversation, Delivery, InboundEvent, Message
from okno.inbox.services import inbound_item_record
from okno.people.models import User
from okno.telephony.calls import CallFact, call_summary
from okno.telephony.models import Call, CallLeg, CallRecording, PbxExtension
from okno.timeline.models import Activity


@pytest.fixture
def seeded(db):
    return demo.demo_seed(contacts=400, seed=11)


# The six weeks' stories, not the year before them (okno/demo/history_year.py, its own tests).
def _calls():
    return Call.objects.exclude(pbx_call_id__startswith="year-")


def _conversations():
    return Conversation.objects.exclude(external_id__startswith="year-")


def _messages():
    return Message.objects.exclude(conversation__external_id__startswith="year-")


def test_every_channel_has_a_history_over_the_past_weeks(seeded):
    # then
    h = seeded.history
    assert h.customers >= 50 and h.calls >= 20 and h.recordings >= 10
    kinds = dict(_conversations().values_list("channel__kind").annotate(n=Count("pk")))
    assert kinds["jivo"] == h.chats >= 5 and kinds["email"] == h.emails >= 3
    assert kinds["form"] == h.forms >= 3 and kinds["telegram"] >= 3
    assert _messages().count() == h.messages and InboundEvent.objects.count() == h.events
    oldest, newest = timezone.now() - timedelta(days=DAYS + 1), timezone.now()
    assert not _conversations().exclude(started_at__range=(oldest, newest)).exists()
    assert not _calls().exclude(started_at__range=(oldest, newest)).exists()
    assert not Message.objects.filter(sent_at__gt=newest).exists()
    assert not Call.objects.filter(ended_at__gt=newest).exists()
    # every conversation and call is on its card's timeline, at its time
    for model, kinds in ((Conversation, ("chat", "email", "form", "message")), (Call, ("call",))):
        for row in (_conversations() if model is Conversation else _calls()):
            entry = Activity.objects.get(detail_id=row.pk, kind__in=kinds)
            assert entry.contact_id == row.contact_id
            assert entry.occurred_at == (row.started_at if model is Call else row.started_at)


def test_chats_are_transcripts_both_ways_with_operators_and_facts(seeded):
    chats = _conversations().filter(channel__kind="jivo").prefetch_related("messages")
    answered = [c for c in chats if not c.missed]
    assert answered and len(answered) < len(chats) + 1
    for chat in answered:
        directions = [m.direction for m in chat.messages.all()]
        assert len(directions) >= 4 and {"in", "out"} <= set(directions)
        assert chat.operator is not None and chat.operator_name == chat.operator.display_name
        assert chat.operator.department.name == "Колл-центр"
        assert chat.first_reply_at and chat.finished_at and chat.page_url.startswith("https://")
        assert chat.started_at == chat.messages.first().sent_at
    assert any(c.rating == "positive" for c in answered)
    assert all(set(c.messages.values_list("direction", flat=True)) == {"in"} for c in chats if c.missed)
    assert MessengerHandle.objects.filter(kind="jivo_visitor").exists()


def test_telegram_and_email_threads_have_the_customers_words_and_our_sent_replies(seeded):
    # Telegram: the bot's updates in, our replies from the card out, each delivered
    for thread in Conversation.objects.filter(channel__kind="telegram"):
        replies = thread.messages.filter(direction="out")
        assert thread.messages.filter(direction="in").exists() and replies.exists()
        assert all(r.author and r.delivery.status == Delivery.Status.SENT for r in replies)
        handle = MessengerHandle.objects.get(contact=thread.contact, kind="telegram")
        assert thread.external_id == f"tg:{handle.handle}"
    # e-mail: threads of inbound letters and our answers (copies in the mailbox), one subject
    threads = Conversation.objects.filter(channel__kind="email")
    assert any(set(t.messages.values_list("direction", flat=True)) == {"in", "out"} for t in threads)
    for t in threads:
        first = t.messages.first()
        assert first.direction == "in" and t.subject and first.meta["from_email"]
    # the made-up mailbox is switched off: the worker polls nothing
    assert not Channel.objects.get(kind="email").is_active


def test_forms_carry_utm_and_the_page(seeded):
    forms = list(Conversation.objects.filter(channel__kind="form"))
    assert any(f.utm for f in forms) and all(f.page_url.startswith("https://okno-shop.example/") for f in forms)
    fields = forms[0].messages.get().meta["fields"]
    assert fields["formname"] and ("phone" in fields or "email" in fields)


def test_calls_are_what_their_facts_say_with_legs_and_playable_recordings(seeded):
    calls = list(_calls())
    assert {c.direction for c in calls} == {"in", "out"} and {"answered", "missed"} <= {c.outcome for c in calls}
    for call in calls:
        assert call.facts == [CallFact(call.pbx_call_id, **{**f, "at": datetime.fromisoformat(f["at"])}).as_row()
                              for f in call.facts]
        s = call_summary(call.facts)
        assert (call.outcome, call.talk_seconds, call.started_at) == (s.outcome, s.talk_seconds, s.started_at)
        assert call.contact_id and call.employee_id and call.customer_number.startswith("+")
        assert CallLeg.objects.filter(call=call).count() == 1
    recorded = CallRecording.objects.filter(status=CallRecording.Status.STORED).select_related("call")
    assert {r.call.outcome for r in recorded} == {"answered"}
    assert all(default_storage.size(r.path) == r.size_bytes > 1000 for r in recorded)
    # demo_call's line is the seeded one, and everyone has an extension on it
    pbx = Channel.objects.get(name=PBX_NAME, kind="mango")
    assert PbxExtension.objects.filter(channel=pbx).count() == User.objects.count()


def test_the_adapters_record_nothing_new_from_the_seeded_events(seeded):
    # given one stored event of each channel, processed again by the real recording path
    before = (Conversation.objects.count(), Message.objects.count(), Contact.objects.count())
    events = [e for kind in ("jivo", "telegram", "email", "form")  # an e-mail thread's root and replies
              for e in InboundEvent.objects.filter(channel__kind=kind).select_related("channel").order_by("pk")[:3]]
    assert {e.channel.kind for e in events} == {"jivo", "telegram", "email", "form"}
    for event in events:
        assert event.status == InboundEvent.Status.DONE and event.processed_at
        for item in adapters.get(event.channel.kind).parse_event(event):
            # then every message is stored as the adapter reads it, and found as already recorded
            if item.text:
                m = Message.objects.get(conversation__channel=event.channel, conversation__external_id=item.thread_id,
                                        external_id=item.message_id)
                assert (m.direction, m.author_name, m.text, m.meta, m.conversation.subject) == (
                    item.direction, item.author_name, item.text, item.meta, m.conversation.subject or item.subject)
            assert inbound_item_record(channel=event.channel, item=item) is None
    assert (Conversation.objects.count(), Message.objects.count(), Contact.objects.count()) == before


def test_the_showcase_card_shows_a_chat_a_call_an_email_and_a_form(seeded):
    # given the card the seed names
    contact = Contact.objects.get(pk=seeded.history.showcase)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(User.objects.get(username=demo.DEMO_ADMIN))

    # when
    page = client.get(f"/contacts/{contact.pk}/").content.decode()

    # then
    assert 'class="conv conv-chat"' in page and 'class="conv conv-email"' in page
    assert 'class="conv conv-form"' in page and 'class="conv conv-message"' in page
    assert page.count('class="activity-call"') >= 2 and 'class="call-recording"' in page
    assert len(re.findall(r'class="msg msg-out"', page)) >= 3
    # and its recording plays
    call = Call.objects.filter(contact=contact, recording__isnull=False).first()
    audio = client.get(f"/telephony/calls/{call.pk}/recording")
    assert audio.status_code == 200 and audio["Content-Type"].startswith("audio/wav")


def test_the_history_is_seeded_from_the_same_seed_the_same_way(db):
    first = demo.demo_seed(contacts=200, seed=5).history
    texts = list(_messages().order_by("conversation__external_id", "sent_at", "id").values_list("text", flat=True))
    assert first.messages == len(texts) > 0


def test_missed_calls_not_returned_yet_owe_open_callbacks(seeded):
    from okno.work.models import WorkItem

    # then: the last hours' missed calls nobody returned are open callbacks of the cards' managers
    items = list(WorkItem.objects.filter(kind=WorkItem.Kind.CALLBACK, status=WorkItem.Status.OPEN))
    assert items and all(i.contact_id and i.assignee_id and i.number for i in items)
    assert Call.objects.filter(callback__in=items, outcome=Call.Outcome.MISSED).count() >= len(items)
