# ruff: noqa: F811 - the fixtures imported from test_telegram are, as pytest wants, test arguments
"""A phone typed into a Telegram chat, or a stranger's shared contact, is a claim, not an identity.

Only Telegram's shared contact of the sender themself (its user_id equals the sender's)
identifies; a claim leaves the chat on its own card and is proposed there for a person to
confirm (through the merge, undoable) or dismiss. Recorded updates, real HTTP to the card."""

import pytest
from django.test import Client

from okno.contacts.models import Contact, ContactMerge, FieldChange, MessengerHandle
from okno.contacts.tests.factories import make_contact
from okno.inbox.drain import inbound_drain
from okno.inbox.models import Conversation, Delivery, Message
from okno.inbox.replies import conversation_reply, deliveries_drain
from okno.inbox.tests.test_telegram import bot_api, channel, post_update  # noqa: F401
from okno.people.tests.factories import DepartmentFactory, UserFactory

OLGA_PHONE = "+79161234567"


@pytest.fixture
def manager(channel):
    """A manager of the bot's department: new Telegram customers' leads (and cards) are theirs."""
    sales = DepartmentFactory()
    channel.department = sales
    channel.save()
    return UserFactory(department=sales)


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _card(client, contact_id: int) -> str:
    r = client.get(f"/contacts/{contact_id}/")
    assert r.status_code == 200
    return r.content.decode()


def _petr_claims_olgas_phone(client, channel) -> Message:
    post_update(client, channel, "other_user_claims_phone")
    inbound_drain()
    return Message.objects.get(external_id="4")


def test_a_stranger_typing_a_customers_number_stays_on_a_card_of_their_own(channel, client, manager, bot_api):
    # given Olga's card, known by her phone
    olga = make_contact(actor=manager, first_name="Ольга", last_name="Смирнова", phones=["+7 916 123-45-67"])
    # when Пётр, another Telegram user, types her number into the bot's chat
    message = _petr_claims_olgas_phone(client, channel)
    # then his chat is on a new card of his own, known by his Telegram id only
    petr = message.conversation.contact
    assert petr.pk != olga.pk and petr.first_name == "Пётр" and not petr.phones.exists()
    assert list(petr.handles.values_list("kind", "handle")) == [("telegram", "515151002")]
    # and Olga's card is untouched: no Telegram id, no conversation, nothing merged
    assert not MessengerHandle.objects.filter(contact=olga).exists()
    assert not Conversation.objects.filter(contact=olga).exists()
    assert Contact.objects.get(pk=olga.pk).status == Contact.Status.ACTIVE and not ContactMerge.objects.exists()
    # and the number is kept on the message as a proposed claim
    assert message.meta["phone_claims"] == [{"phone": OLGA_PHONE, "source": "text", "status": "proposed"}]
    # and a reply to "the customer" of Olga's card has no chat to go to: it goes to Пётр's chat only
    conversation_reply(actor=manager, conversation=message.conversation, text="Счёт во вложении")
    deliveries_drain()
    assert bot_api.requests[-1][1]["chat_id"] == 515151002 and Delivery.objects.get().status == "sent"


def test_the_claim_is_proposed_on_the_card_with_the_owners_card_only_to_who_may_see_it(channel, client, manager):
    # given Olga's card, of the bot's department, and Пётр claiming her number
    olga = make_contact(actor=manager, first_name="Ольга", last_name="Смирнова", phones=["+7 916 123-45-67"])
    message = _petr_claims_olgas_phone(client, channel)
    petr_id = message.conversation.contact_id
    # then the manager, who may open both cards, sees the claim, Olga's card and Confirm / Dismiss
    card = _card(_client(manager), petr_id)
    claim = card[card.index(f'id="claim-{message.pk}-0"'):]
    claim = claim[:claim.index("</form>")]
    assert "+7 916 123-45-67" in claim and f'href="/contacts/{olga.pk}/">{olga.full_name}</a>' in claim
    assert 'value="attach"' in claim and f'name="card" value="{olga.pk}"' in claim and 'value="dismiss"' in claim
    # when Olga's card belongs to another department's manager instead
    other = UserFactory(department=DepartmentFactory())
    Contact.objects.filter(pk=olga.pk).update(responsible=other, department=other.department)
    card = _card(_client(manager), petr_id)
    claim = card[card.index(f'id="claim-{message.pk}-0"'):]
    claim = claim[:claim.index("</form>")]
    # then the manager learns only that the number is elsewhere: no name, no id, nothing to attach
    assert "Ольга" not in claim and f"/contacts/{olga.pk}/" not in claim and 'name="card"' not in claim
    assert 'value="attach"' not in claim and 'value="add"' not in claim and 'value="dismiss"' in claim
    # and attaching to it anyway (a forged form) is 404, as that card is for the manager, and nothing is merged
    r = _client(manager).post(f"/inbox/messages/{message.pk}/claims/0/", {"action": "attach", "card": olga.pk})
    assert r.status_code == 404 and not ContactMerge.objects.exists()
    assert Message.objects.get(pk=message.pk).meta["phone_claims"][0]["status"] == "proposed"
    # and a person who may not see the chat's card cannot decide its claims at all
    r = _client(other).post(f"/inbox/messages/{message.pk}/claims/0/", {"action": "dismiss"})
    assert r.status_code == 404


def test_confirming_attaches_through_the_merge_which_can_be_undone(channel, client, manager):
    olga = make_contact(actor=manager, first_name="Ольга", last_name="Смирнова", phones=["+7 916 123-45-67"])
    message = _petr_claims_olgas_phone(client, channel)
    petr_id = message.conversation.contact_id
    # when the manager (who called Olga, say) confirms the claim
    r = _client(manager).post(f"/inbox/messages/{message.pk}/claims/0/", {"action": "attach", "card": olga.pk})
    # then the chat's card is merged into Olga's: her card has the Telegram id and the chat
    assert r.status_code == 302 and r["Location"] == f"/contacts/{olga.pk}/#conversation-{message.conversation_id}"
    merge = ContactMerge.objects.get()
    assert (merge.kept_id, merge.merged_ids, merge.created_by_id) == (olga.pk, [petr_id], manager.pk)
    assert Conversation.objects.get().contact_id == olga.pk
    assert MessengerHandle.objects.get(handle="515151002").contact_id == olga.pk
    claim = Message.objects.get(pk=message.pk).meta["phone_claims"][0]
    assert (claim["status"], claim["outcome"], claim["merge_id"], claim["decided_by"]) == (
        "confirmed", "attached", merge.pk, manager.pk)
    # and the card says who confirmed it, with nothing left to decide
    card = _card(_client(manager), olga.pk)
    assert f'action="/inbox/messages/{message.pk}/claims/0/"' not in card and manager.display_name in card
    # and a second decision is refused, changing nothing
    r = _client(manager).post(f"/inbox/messages/{message.pk}/claims/0/", {"action": "dismiss"})
    assert r.status_code == 302 and Message.objects.get(pk=message.pk).meta["phone_claims"][0]["status"] == "confirmed"
    # when the merge is undone, the cards are apart again
    assert _client(manager).post(f"/contacts/merges/{merge.pk}/undo/").status_code == 302
    assert Conversation.objects.get().contact_id == petr_id
    assert MessengerHandle.objects.get(handle="515151002").contact_id == petr_id


def test_dismissing_changes_nothing_but_the_claim(channel, client, manager):
    olga = make_contact(actor=manager, first_name="Ольга", last_name="Смирнова", phones=["+7 916 123-45-67"])
    message = _petr_claims_olgas_phone(client, channel)
    r = _client(manager).post(f"/inbox/messages/{message.pk}/claims/0/", {"action": "dismiss"})
    assert r.status_code == 302
    claim = Message.objects.get(pk=message.pk).meta["phone_claims"][0]
    assert (claim["status"], claim["decided_by"]) == ("dismissed", manager.pk)
    assert not ContactMerge.objects.exists() and not MessengerHandle.objects.filter(contact=olga).exists()
    # and an unknown action or claim is a clear 4xx
    r = _client(manager).post(f"/inbox/messages/{message.pk}/claims/0/", {"action": "steal"})
    assert r.status_code == 302  # decided already: refused before the action is read
    r = _client(manager).post(f"/inbox/messages/{message.pk}/claims/7/", {"action": "dismiss"})
    assert r.status_code == 404


def test_a_number_no_card_has_is_added_to_the_chats_card_only_when_confirmed(channel, client, manager):
    # given nobody has Olga's number yet
    message = _petr_claims_olgas_phone(client, channel)
    petr = message.conversation.contact
    assert not petr.phones.exists()
    card = _card(_client(manager), petr.pk)
    assert 'value="add"' in card and 'value="attach"' not in card
    # when the manager confirms it
    r = _client(manager).post(f"/inbox/messages/{message.pk}/claims/0/", {"action": "add"})
    # then the number is on the chat's card, and its history names who added it
    assert r.status_code == 302
    assert list(petr.phones.values_list("e164", flat=True)) == [OLGA_PHONE]
    assert FieldChange.objects.filter(contact=petr, field="phones", user=manager).exists()
    assert Message.objects.get(pk=message.pk).meta["phone_claims"][0]["outcome"] == "added"


def test_a_known_customer_typing_another_cards_number_is_not_merged_with_it(channel, client, manager):
    # given Olga writes to the bot (her card is known by her Telegram id) and another card has a number
    post_update(client, channel, "text")
    inbound_drain()
    olga = Contact.objects.get()
    husband = make_contact(actor=manager, first_name="Игорь", last_name="Смирнов", phones=["+7 916 123-45-67"])
    # when she types that number into the chat (the one-by-one path: her conversation exists)
    post_update(client, channel, "text_with_phone")
    inbound_drain()
    # then nothing is merged and the number stays a claim on her message
    assert not ContactMerge.objects.exists()
    assert Contact.objects.get(pk=husband.pk).status == Contact.Status.ACTIVE and not olga.phones.exists()
    assert Message.objects.get(external_id="14").meta["phone_claims"][0]["phone"] == OLGA_PHONE
    assert Conversation.objects.get().contact_id == olga.pk


def test_a_shared_contact_of_someone_else_is_a_claim_and_ones_own_is_proof(channel, client, manager):
    olga = make_contact(actor=manager, first_name="Ольга", last_name="Смирнова", phones=["+7 916 123-45-67"])
    # when Пётр shares Olga's contact (her Telegram user_id, not his)
    post_update(client, channel, "other_user_shares_contact")
    inbound_drain()
    message = Message.objects.get(external_id="5")
    # then it is a claim on his own card, not an identity
    assert message.conversation.contact_id != olga.pk and not ContactMerge.objects.exists()
    assert message.meta["phone_claims"] == [
        {"phone": OLGA_PHONE, "source": "contact", "name": "Ольга Смирнова", "status": "proposed"}]
    assert not MessengerHandle.objects.filter(contact=olga).exists()
    # when Olga herself shares her own contact (user_id equals the sender's): that is proof
    post_update(client, channel, "contact_own")
    inbound_drain()
    assert MessengerHandle.objects.get(handle="424242001").contact_id == olga.pk
    own = Message.objects.get(external_id="15")
    assert own.conversation.contact_id == olga.pk and "phone_claims" not in own.meta
