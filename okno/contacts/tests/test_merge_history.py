"""Every merge shows on the card's history with its reason and an Undo button while undo is
possible (issue 15, "A silent automatic merge")."""

import pytest
from django.test import Client

from okno.contacts.merge import contact_merge
from okno.contacts.models import Contact
from okno.contacts.tests.factories import make_contact
from okno.people.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _card(user, contact) -> str:
    client = Client()
    client.force_login(user)
    return client.get(f"/contacts/{contact.pk}/?tab=timeline").content.decode()


def _undo_button(merge) -> str:
    return f"/contacts/merges/{merge.pk}/undo/"


def test_an_automatic_merge_shows_why_and_can_be_undone_from_the_card(admin_user):
    # given: Okno itself merged a duplicate saved on purpose, on a channel's evidence
    admin_user.language = "en"
    admin_user.save()
    kept = make_contact(actor=admin_user, first_name="Olga", last_name="Ivanova", phones=["+79161234567"])
    twin = make_contact(actor=admin_user, first_name="Olga", last_name="Ivanova")
    merge = contact_merge(actor=None, keep_id=kept.pk, merge_ids=[twin.pk], reason="same phone +7 916 123-45-67")
    # when
    html = _card(admin_user, kept)
    # then: it says it was automatic, why, which card, and offers Undo
    assert "Merged automatically" in html and "same phone +7 916 123-45-67" in html
    assert f"#{twin.pk} Ivanova Olga" in html
    assert _undo_button(merge) in html


def test_after_undo_both_cards_say_so_and_the_button_is_gone(admin_user):
    admin_user.language = "en"
    admin_user.save()
    kept, twin = (make_contact(actor=admin_user, first_name="Olga", last_name=n) for n in ("Ivanova", "Ivanova2"))
    merge = contact_merge(actor=admin_user, keep_id=kept.pk, merge_ids=[twin.pk])
    client = Client()
    client.force_login(admin_user)
    # when: Undo is pressed on the card
    assert client.post(_undo_button(merge)).status_code == 302
    # then
    assert Contact.objects.get(pk=twin.pk).status == Contact.Status.ACTIVE
    html = _card(admin_user, kept)
    assert "Merge undone, restored:" in html and "Undone since." in html and _undo_button(merge) not in html
    assert "Separated again" in _card(admin_user, twin)


def test_only_the_latest_merge_into_a_card_offers_undo(admin_user):
    admin_user.language = "en"
    admin_user.save()
    kept, b, c = (make_contact(actor=admin_user, first_name="Olga", last_name=n) for n in ("A", "B", "C"))
    first = contact_merge(actor=admin_user, keep_id=kept.pk, merge_ids=[b.pk])
    second = contact_merge(actor=admin_user, keep_id=kept.pk, merge_ids=[c.pk])
    html = _card(admin_user, kept)
    assert _undo_button(second) in html and _undo_button(first) not in html
    assert "A later merge into this card must be undone first." in html


def test_in_russian_the_history_is_russian(admin_user):
    manager = UserFactory(language="ru", department=None, role="admin")
    kept, twin = (make_contact(actor=manager, first_name="Ольга", last_name=n) for n in ("Иванова", "Иванова"))
    contact_merge(actor=None, keep_id=kept.pk, merge_ids=[twin.pk], reason="same phone +7 916 123-45-67")
    html = _card(manager, kept)
    assert "Merged automatically" not in html and "Undo merge" not in html and "same phone" not in html
    assert "тот же телефон +7 916 123-45-67" in html
    assert "Объединено автоматически" in html


def test_a_channel_s_automatic_merge_says_which_sender_joined_the_cards(admin_user):
    from okno.contacts.identify import Identity, contact_identify

    admin_user.language = "en"
    admin_user.save()
    # given: two cards of one customer, one with her mobile, one with her e-mail
    by_phone = make_contact(actor=admin_user, first_name="Olga", last_name="Ivanova", phones=["+79161234567"])
    by_mail = make_contact(actor=admin_user, first_name="Olga", last_name="Ivanova", emails=["olga@example.ru"])
    # when: a chat arrives with both
    contact, _ = contact_identify(identity=Identity(name="Olga Ivanova", phones=["+79161234567"],
                                                    emails=["olga@example.ru"]), source="Site chat")
    # then: one card, and its history says why, with Undo
    html = _card(admin_user, contact)
    assert "Merged automatically" in html and "one sender (Site chat) on both cards:" in html
    assert "olga@example.ru" in html and "/undo/" in html
    assert {by_phone.pk, by_mail.pk} - {contact.pk}
