"""The card's timeline draws every kind through the registry, in a fixed number of queries."""

import itertools

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from okno.contacts.tests.factories import make_contact
from okno.inbox.models import Conversation, Message
from okno.inbox.tests.factories import make_channel
from okno.people.tests.factories import UserFactory
from okno.telephony.models import Call, CallRecording
from okno.timeline import registry
from okno.timeline.models import Activity
from okno.timeline.services import activity_record, note_add

_ids = itertools.count(1)


def test_every_activity_kind_has_a_renderer():
    # A kind nobody draws would show on the card as a bare summary at best: say who owns it.
    assert registry.kinds_without_renderer() == []


def test_a_kind_drawn_two_ways_is_refused():
    note = registry.renderer_for(Activity.Kind.NOTE)
    with pytest.raises(ImproperlyConfigured):
        registry.register(kinds=[Activity.Kind.NOTE], template="elsewhere/_note.html")
    # registering the same way again (apps' ready() run twice) is harmless
    registry.register(kinds=list(note.kinds), template=note.template, load=note.load)
    assert registry.renderer_for(Activity.Kind.NOTE) == note


def _one_of_each(contact, channel, pbx_channel) -> None:
    """A note, a chat with two messages, a form, a call with a stored recording, a merge entry."""
    n = next(_ids)
    note_add(contact=contact, body=f"Позвонить в пятницу {n}", author=None)
    for kind in (Conversation.Kind.CHAT, Conversation.Kind.FORM):
        conv = Conversation.objects.create(channel=channel, contact=contact, kind=kind, external_id=f"c{n}{kind}")
        for i in range(2):
            Message.objects.create(conversation=conv, direction="in", external_id=f"m{n}{kind}{i}", text=f"Привет {i}")
        activity_record(contact=contact, kind=kind, detail=conv, summary=f"{kind} {n}")
    call = Call.objects.create(channel=pbx_channel, pbx_call_id=f"call-{n}", contact=contact)
    CallRecording.objects.create(call=call, recording_id=f"r{n}", run_after=timezone.now(),
                                 status=CallRecording.Status.STORED, path=f"recordings/{n}.mp3")
    activity_record(contact=contact, kind=Activity.Kind.CALL, detail=call, summary=f"call {n}")
    activity_record(contact=contact, kind=Activity.Kind.MERGE, summary=f"merged {n}")


def _card_queries(client: Client, contact) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as ctx:
        page = client.get(f"/contacts/{contact.pk}/")
    assert page.status_code == 200
    return len(ctx.captured_queries), page.content.decode()


@pytest.mark.django_db
def test_the_card_draws_each_kind_and_its_queries_do_not_grow_with_the_entries():
    # given a card with one entry of every drawn kind
    admin = UserFactory(role="admin")
    contact = make_contact(first_name="Анна", last_name="Смирнова", phones=["+79161234567"])
    channel, pbx_channel = make_channel(kind="jivo", name="Чат"), make_channel(kind="mango", name="АТС")
    _one_of_each(contact, channel, pbx_channel)
    client = Client()
    client.force_login(admin)
    client.get(f"/contacts/{contact.pk}/")  # content types and templates warm, as in a running server
    # when the card is drawn
    few, page = _card_queries(client, contact)
    # then each kind is drawn by its own domain's fragment
    assert "Позвонить в пятницу" in page  # the note's body
    assert "Привет 1" in page  # the chat's messages
    assert page.count('<audio class="call-recording"') == 1  # the call's player
    assert "merged" in page
    # and with three times the entries the card costs the same number of queries
    for _ in range(2):
        _one_of_each(contact, channel, pbx_channel)
    many, page = _card_queries(client, contact)
    assert page.count('<audio class="call-recording"') == 3
    assert many == few, f"{few} queries for one entry of each kind, {many} for three"
