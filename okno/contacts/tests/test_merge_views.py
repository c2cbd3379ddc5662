"""The merge page and the Undo button, through Django's test client as a logged-in person."""

import re

import pytest

from okno.contacts.merge import contact_merge
from okno.contacts.models import Contact, ContactMerge
from okno.contacts.tests.factories import make_contact
from okno.people.models import User
from okno.people.tests.factories import UserFactory


@pytest.fixture
def cards(admin_user):
    kept = make_contact(actor=admin_user, first_name="Иван", last_name="Петров", city="Москва",
                        phones=["+7 916 123-45-67"])
    other = make_contact(actor=admin_user, first_name="Ваня", last_name="Петров", city="",
                         phones=["+7 903 000-00-01"], emails=["v@example.com"])
    return kept, other


@pytest.fixture
def logged_in(client, admin_user):
    client.force_login(admin_user)
    return client


def test_page_shows_cards_side_by_side_with_a_choice_per_conflict(logged_in, cards):
    kept, other = cards
    r = logged_in.get(f"/contacts/merge/?ids={kept.pk},{other.pk}")
    assert r.status_code == 200
    html = r.content.decode()
    # a radio per card for the card that stays, the first one checked
    assert re.search(rf'name="keep" value="{kept.pk}" id="keep-{kept.pk}"\s+checked', html)
    assert f'id="keep-{other.pk}"' in html
    # the first name differs: one radio per card and a default; the same last name and a lone city need none
    assert f'id="field-first_name-{kept.pk}"' in html and f'id="field-first_name-{other.pk}"' in html
    assert 'id="field-first_name-default"' in html
    assert 'name="field-last_name"' not in html and 'name="field-city"' not in html
    # what will move is shown
    assert "+7 903 000-00-01" in html and "v@example.com" in html


def test_post_merges_and_offers_undo_on_the_kept_card(logged_in, cards):
    kept, other = cards
    # when the person keeps the second card but takes the first card's first name
    r = logged_in.post("/contacts/merge/", {"ids": f"{kept.pk},{other.pk}", "keep": str(other.pk),
                                          "field-first_name": str(kept.pk), "field-city": ""})
    # then they land on the card that stays
    assert r.status_code == 302 and r["Location"] == f"/contacts/{other.pk}/"
    merge = ContactMerge.objects.get()
    assert (merge.kept_id, merge.merged_ids) == (other.pk, [kept.pk])
    other.refresh_from_db()
    assert (other.first_name, other.city) == ("Иван", "Москва")
    assert other.phones.count() == 2
    # and the card shows the merge with an Undo button
    page = logged_in.get(r["Location"])
    html = page.content.decode()
    assert 'id="merge-done"' in html
    assert f'action="/contacts/merges/{merge.pk}/undo/"' in html and 'id="merge-undo"' in html
    # the merged-away card's URL goes to the kept one
    assert logged_in.get(f"/contacts/{kept.pk}/")["Location"] == f"/contacts/{other.pk}/"

    # when Undo is pressed
    u = logged_in.post(f"/contacts/merges/{merge.pk}/undo/")
    # then both cards are back
    assert u.status_code == 302 and u["Location"] == f"/contacts/{other.pk}/"
    assert Contact.objects.filter(status=Contact.Status.ACTIVE).count() == 2
    other.refresh_from_db()
    assert (other.first_name, other.city, other.phones.count()) == ("Ваня", "", 1)
    # and pressing it twice says why nothing happens
    again = logged_in.post(f"/contacts/merges/{merge.pk}/undo/", follow=True)
    assert "уже отменено" in again.content.decode()  # the page speaks Russian


def test_undo_needs_post(logged_in, cards, admin_user):
    kept, other = cards
    merge = contact_merge(actor=admin_user, keep_id=kept.pk, merge_ids=[other.pk])
    assert logged_in.get(f"/contacts/merges/{merge.pk}/undo/").status_code == 405
    assert ContactMerge.objects.get(pk=merge.pk).undone_at is None


def test_post_without_the_card_that_stays_is_400(logged_in, cards):
    kept, other = cards
    r = logged_in.post("/contacts/merge/", {"ids": f"{kept.pk},{other.pk}"})
    assert r.status_code == 400
    assert 'id="merge-errors"' in r.content.decode()
    assert not ContactMerge.objects.exists()


def test_merged_and_invisible_cards_are_refused(logged_in, client, cards, admin_user):
    kept, other = cards
    third = make_contact(actor=admin_user, first_name="Третий")
    contact_merge(actor=admin_user, keep_id=kept.pk, merge_ids=[other.pk])
    # a card merged already is named, with where it went
    r = logged_in.get(f"/contacts/merge/?ids={third.pk},{other.pk}")
    assert r.status_code == 409
    assert re.search(rf"[#№]{other.pk}\b.*[#№]{kept.pk}\b", r.content.decode())
    assert 'id="merge-submit"' not in r.content.decode()
    # a manager may not merge cards they cannot see: 404, as for a missing card
    manager = UserFactory(role=User.Role.MANAGER)
    mine = make_contact(actor=manager, first_name="Мой")
    client.force_login(manager)
    assert client.get(f"/contacts/merge/?ids={mine.pk},{third.pk}").status_code == 404
    r = client.post("/contacts/merge/", {"ids": f"{mine.pk},{third.pk}", "keep": str(mine.pk)})
    assert r.status_code == 404
    assert Contact.objects.get(pk=third.pk).status == Contact.Status.ACTIVE


def test_anonymous_is_sent_to_login(client, cards):
    kept, other = cards
    r = client.get(f"/contacts/merge/?ids={kept.pk},{other.pk}")
    assert r.status_code == 302 and "/login/" in r["Location"]
