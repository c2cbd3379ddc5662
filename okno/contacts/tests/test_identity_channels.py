"""Issue 14: channels merge cards by themselves only on proof of one person. A landline shared
by colleagues or a family points at a card and never merges two; a person's "not duplicates"
is never overridden; another spelling of a Gmail/Yandex mailbox finds the card. Invented data."""

from okno.contacts.identify import Identity, contact_identify, identity_keys, identity_keys_known
from okno.contacts.models import Contact, DuplicatePair
from okno.contacts.tests.factories import make_contact
from okno.inbox.drain import inbound_drain
from okno.inbox.models import Conversation
from okno.inbox.tests.factories import make_channel

OFFICE = "+74957310022"


def active_ids():
    return set(Contact.objects.filter(status=Contact.Status.ACTIVE).values_list("pk", flat=True))


def post_form(client, channel, body):
    r = client.post(channel.webhook_path, data=body)
    assert r.status_code < 300, r.content
    inbound_drain()


def test_a_call_from_an_office_line_merges_no_colleagues(db):
    # given two colleagues with the office's main number
    older = make_contact(first_name="Зарина", last_name="Ахмедова", company="Вектор-Плюс", phones=[OFFICE])
    newer = make_contact(first_name="Тимофей", last_name="Ларионов", company="Вектор-Плюс", phones=[OFFICE])
    # when a call comes from that number (no name: telephony's identity)
    contact, created = contact_identify(identity=Identity(phones=["8 495 731-00-22"]), source="АТС")
    # then it lands on the number's oldest card and both cards stay
    assert (contact.pk, created) == (older.pk, False)
    assert active_ids() == {older.pk, newer.pk}


def test_a_form_from_an_office_line_lands_on_the_card_whose_name_agrees(db, client):
    zarina = make_contact(first_name="Зарина", last_name="Ахмедова", phones=[OFFICE])
    timofei = make_contact(first_name="Тимофей", last_name="Ларионов", phones=[OFFICE])
    channel = make_channel(kind="form")
    # when Тимофей sends the site's form with the office number
    post_form(client, channel, {"name": "Тимофей Ларионов", "phone": "+7 (495) 731-00-22", "message": "Счёт"})
    # then the conversation is on his card and nobody was merged
    assert Conversation.objects.get().contact_id == timofei.pk
    assert active_ids() == {zarina.pk, timofei.pk}


def test_a_stranger_on_an_office_line_gets_a_card_of_their_own(db, client):
    zarina = make_contact(first_name="Зарина", last_name="Ахмедова", phones=[OFFICE])
    channel = make_channel(kind="form")
    post_form(client, channel, {"name": "Ольга Мельникова", "phone": "84957310022", "message": "Вопрос"})
    conv = Conversation.objects.get()
    assert conv.contact_id != zarina.pk and conv.contact.first_name == "Ольга"
    assert active_ids() == {zarina.pk, conv.contact_id}


def test_a_landline_with_agreeing_names_is_proof_and_merges(db):
    # given the sender's Telegram card and an older card with their office landline
    older = make_contact(first_name="Тимофей", last_name="Ларионов", phones=[OFFICE])
    by_handle = make_contact(first_name="Тимофей", last_name="", handles=[{"kind": "telegram", "handle": "77123"}])
    # when the sender, named, tells the landline in the chat
    contact, _ = contact_identify(identity=Identity(name="Тимофей Ларионов", phones=[OFFICE],
                                                    handles=[("telegram", "77123")]))
    # then the cards merge into the older
    assert contact.pk == older.pk
    assert active_ids() == {older.pk}
    assert Contact.objects.get(pk=by_handle.pk).merged_into_id == older.pk


def test_a_mobile_on_two_cards_merges_them(db):
    older = make_contact(first_name="Ренат", last_name="Хайруллин", phones=["+79267451830"])
    newer = make_contact(first_name="Ренат", last_name="", phones=["+79267451830"])
    contact, _ = contact_identify(identity=Identity(phones=["89267451830"]))
    assert contact.pk == older.pk and active_ids() == {older.pk}
    assert Contact.objects.get(pk=newer.pk).status == Contact.Status.MERGED


def test_not_duplicates_is_never_overridden_by_a_channel(db):
    # given two cards with one mobile, which a person said are not duplicates
    a = make_contact(first_name="Ренат", last_name="Хайруллин", phones=["+79267451830"])
    b = make_contact(first_name="Оксана", last_name="Хайруллина", phones=["+79267451830"])
    DuplicatePair.objects.create(contact_a=a, contact_b=b, level="certain", score=0.9, reasons=[], dismissed=True)
    # when a call comes from the number
    contact, _ = contact_identify(identity=Identity(phones=["+79267451830"]))
    # then it lands on the older card and both cards stay
    assert contact.pk == a.pk and active_ids() == {a.pk, b.pk}


def test_another_spelling_of_a_mailbox_finds_the_card(db, client):
    known = make_contact(first_name="Нина", last_name="Зуева", emails=["nina.zueva@gmail.com"])
    channel = make_channel(kind="form")
    post_form(client, channel, {"name": "Нина", "email": "NinaZueva+site@googlemail.com", "message": "Здравствуйте"})
    assert Conversation.objects.get().contact_id == known.pk
    assert active_ids() == {known.pk}
    # the new spelling is added to the card as typed
    assert set(known.emails.values_list("email", flat=True)) == {"nina.zueva@gmail.com",
                                                                 "ninazueva+site@googlemail.com"}


def test_batch_lookup_knows_a_mailbox_by_another_spelling(db):
    make_contact(first_name="Нина", last_name="Зуева", emails=["nina-zueva@yandex.ru"])
    keys = identity_keys(Identity(emails=["nina.zueva@ya.ru"]))
    assert ("mailbox", "nina-zueva@yandex.ru") in keys
    assert identity_keys_known(keys) == {("mailbox", "nina-zueva@yandex.ru")}
