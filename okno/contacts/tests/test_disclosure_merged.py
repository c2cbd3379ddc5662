"""A merged card answers with its kept card only to whoever may see that card (issue 13):
a card of department B merged into department A's answered B's manager 301 with A's id."""

import pytest
from django.test import Client

from okno.contacts.merge import contact_merge
from okno.contacts.tests.factories import make_contact
from okno.people.tests.factories import DepartmentFactory, UserFactory


@pytest.fixture
def world(admin_user):
    a, b = DepartmentFactory(name="Отдел A"), DepartmentFactory(name="Отдел B")
    manager_a, manager_b = UserFactory(department=a), UserFactory(department=b)
    return {"manager_a": manager_a, "manager_b": manager_b, "admin": admin_user}


def _merged(world, *, merged_by: str, kept_by: str):
    merged = make_contact(actor=world[merged_by], first_name="Иван", last_name="Склеенный")
    kept = make_contact(actor=world[kept_by], first_name="Иван", last_name="Склеенный")
    contact_merge(actor=world["admin"], keep_id=kept.pk, merge_ids=[merged.pk])
    return merged, kept


def _logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_card_merged_into_another_departments_card_is_404_in_the_api(world, api_as):
    # given B's card merged into A's card
    merged, kept = _merged(world, merged_by="manager_b", kept_by="manager_a")
    b = api_as(world["manager_b"])
    # when B's manager reads or changes the merged card
    read = b.get(f"/api/v1/contacts/{merged.pk}")
    patch = b.patch(f"/api/v1/contacts/{merged.pk}", {"city": "Тверь"})
    notes = b.post(f"/api/v1/contacts/{merged.pk}/notes", {"body": "?"})
    # then each answer is 404, naming no kept card
    for response in (read, patch, notes):
        assert response.status_code == 404
        assert str(kept.pk) not in response.get("Location", "") + response.content.decode()


def test_a_card_merged_into_another_departments_card_is_404_in_the_ui(world):
    # given B's card merged into A's card
    merged, kept = _merged(world, merged_by="manager_b", kept_by="manager_a")
    client = _logged_in(world["manager_b"])
    # when B's manager opens it, its edit form and its delete page
    for url in (f"/contacts/{merged.pk}/", f"/contacts/{merged.pk}/edit/", f"/contacts/{merged.pk}/delete/"):
        response = client.get(url)
        # then 404, not a redirect to A's card
        assert response.status_code == 404, url


def test_a_card_the_caller_never_saw_is_404_whatever_it_was_merged_into(world, api_as):
    # given A's card merged into B's card: B may see the kept card, not the merged one
    merged, kept = _merged(world, merged_by="manager_a", kept_by="manager_b")
    # when B's manager reads the merged card
    response = api_as(world["manager_b"]).get(f"/api/v1/contacts/{merged.pk}")
    # then it does not exist for them
    assert response.status_code == 404


def test_the_redirect_stays_for_whoever_may_see_the_kept_card(world, api_as):
    # given B's card merged into A's card
    merged, kept = _merged(world, merged_by="manager_b", kept_by="manager_a")
    # when an administrator reads the merged card (API and UI)
    api_answer = api_as(world["admin"]).get(f"/api/v1/contacts/{merged.pk}")
    ui_answer = _logged_in(world["admin"]).get(f"/contacts/{merged.pk}/")
    # then both point to the kept card, as before
    assert api_answer.status_code == 301 and api_answer["Location"] == f"/api/v1/contacts/{kept.pk}"
    assert ui_answer.status_code == 302 and ui_answer["Location"] == f"/contacts/{kept.pk}/"


def test_within_one_department_the_merged_card_redirects(world, api_as):
    # given two of A's cards merged
    merged, kept = _merged(world, merged_by="manager_a", kept_by="manager_a")
    # when A's manager reads the merged one
    response = api_as(world["manager_a"]).get(f"/api/v1/contacts/{merged.pk}")
    patch = api_as(world["manager_a"]).patch(f"/api/v1/contacts/{merged.pk}", {"city": "Тверь"})
    # then 301 to the kept card, and a write is refused naming it
    assert response.status_code == 301 and response["Location"] == f"/api/v1/contacts/{kept.pk}"
    assert patch.status_code == 409 and patch.json()["merged_into"] == kept.pk


def test_undoing_a_merge_names_only_the_restored_cards_the_caller_sees(world, api_as):
    # given B's card merged into A's card by an administrator
    merged, kept = _merged(world, merged_by="manager_b", kept_by="manager_a")
    merge_id = kept.merges_kept.get().pk
    # when A's manager undoes it
    response = api_as(world["manager_a"]).post(f"/api/v1/contacts/merges/{merge_id}/undo")
    # then B's card is back, but its id is not told to A
    assert response.status_code == 200
    assert response.json()["restored_ids"] == []
    merged.refresh_from_db()
    assert merged.status == "active"
