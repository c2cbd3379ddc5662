"""Issue 14: addresses that reach one Gmail or Yandex mailbox are one person ("same mailbox");
Mail.ru's domains are separate mailboxes. Invented addresses."""

import pytest

from okno.contacts.duplicates import duplicates_scan, match_keys_rebuild
from okno.contacts.matching import features_of, score_pair
from okno.contacts.models import ContactMatchKey, DuplicatePair
from okno.contacts.tests.factories import make_contact
from okno.core.emails import mailbox_key


@pytest.mark.parametrize(("typed", "mailbox"), [
    ("Lev.Tarasov+crm@gmail.com", "levtarasov@gmail.com"),
    ("l.e.v.tarasov@googlemail.com", "levtarasov@gmail.com"),
    ("lev.tarasov@ya.ru", "lev-tarasov@yandex.ru"),
    ("lev-tarasov@yandex.com", "lev-tarasov@yandex.ru"),
    ("Lev.Tarasov@yandex.by", "lev-tarasov@yandex.ru"),
    ("lev.tarasov+shop@yandex.kz", "lev-tarasov@yandex.ru"),
    ("lev.tarasov@mail.ru", "lev.tarasov@mail.ru"),  # Mail.ru: as typed
    ("lev.tarasov@bk.ru", "lev.tarasov@bk.ru"),
    ("lev.tarasov+x@firm.ru", "lev.tarasov+x@firm.ru"),  # a company's server: as typed
])
def test_mailbox_key(typed, mailbox):
    assert mailbox_key(typed) == mailbox


def feats(first, last, emails):
    return features_of(first=first, last=last, middle="", company="", city="", phones=[], emails=emails)


@pytest.mark.parametrize(("mine", "theirs"), [
    ("lev.tarasov@gmail.com", "levtarasov@gmail.com"),
    ("levtarasov+orders@gmail.com", "lev.tarasov@googlemail.com"),
    ("lev.tarasov@ya.ru", "lev-tarasov@yandex.ru"),
    ("lev-tarasov@yandex.kz", "lev.tarasov@yandex.com"),
])
def test_two_spellings_of_one_mailbox_are_certain(mine, theirs):
    level, _, reasons = score_pair(feats("Лев", "Тарасов", [mine]), feats("Лёва", "Тарасов", [theirs]))
    assert level == "certain"
    assert reasons[0] == f"same mailbox {mine} / {theirs}"


def test_mail_ru_domains_are_separate_mailboxes():
    # the same login at mail.ru and bk.ru of two different people: nothing
    assert score_pair(feats("Лев", "Тарасов", ["lev.tarasov@mail.ru"]),
                      feats("Нина", "Зуева", ["lev.tarasov@bk.ru"])) is None
    # of one name: the e-mail name (likely), never "same mailbox"
    level, _, reasons = score_pair(feats("Лев", "Тарасов", ["lev.tarasov@mail.ru"]),
                                   feats("Лев", "Тарасов", ["lev.tarasov@bk.ru"]))
    assert level == "likely" and not any("mailbox" in r for r in reasons)


def test_different_gmail_logins_are_different_mailboxes():
    assert score_pair(feats("Лев", "Тарасов", ["lev.tarasov@gmail.com"]),
                      feats("Нина", "Зуева", ["lev.tarasova@gmail.com"])) is None


def test_address_is_kept_as_typed_and_filed_under_its_mailbox(db):
    c = make_contact(first_name="Лев", last_name="Тарасов", emails=["Lev.Tarasov+crm@GMail.com"])
    assert list(c.emails.values_list("email", flat=True)) == ["lev.tarasov+crm@gmail.com"]
    assert "m:levtarasov@gmail.com" in set(ContactMatchKey.objects.filter(contact=c).values_list("key", flat=True))


def test_card_api_and_scan_find_the_same_mailbox(api):
    # given one person's two cards, with two spellings of one Yandex address, and a stranger at Mail.ru
    a = make_contact(first_name="Нина", last_name="Зуева", emails=["nina.zueva@ya.ru"])
    b = make_contact(first_name="Нина", last_name="Зуева", emails=["nina-zueva@yandex.ru"])
    make_contact(first_name="Фаина", last_name="Рябова", emails=["nina.zueva@mail.ru"])
    # when the card's duplicates are asked for
    body = api.get(f"/api/v1/contacts/{a.pk}/duplicates").json()
    # then the other spelling is certain, with the reason
    assert [(x["id"], x["level"]) for x in body] == [(b.pk, "certain")]
    assert body[0]["reasons"][0] == "same mailbox nina.zueva@ya.ru / nina-zueva@yandex.ru"
    # and the scan stores the pair
    duplicates_scan()
    assert list(DuplicatePair.objects.values_list("contact_a", "contact_b", "level")) == [(a.pk, b.pk, "certain")]


def test_rebuilding_keys_files_existing_cards_under_their_mailbox(db):
    # given cards filed before mailbox keys existed
    a = make_contact(first_name="Нина", last_name="Зуева", emails=["nina.zueva@gmail.com"])
    b = make_contact(first_name="Нина", last_name="Зуева", emails=["ninazueva@gmail.com"])
    ContactMatchKey.objects.filter(key__startswith="m:").delete()
    duplicates_scan()
    assert not DuplicatePair.objects.exists()
    # when the keys are rebuilt (manage.py scan_duplicates --reindex) and the scan runs again
    match_keys_rebuild()
    duplicates_scan(full=True)
    # then the pair is found
    assert list(DuplicatePair.objects.values_list("contact_a", "contact_b")) == [(a.pk, b.pk)]
