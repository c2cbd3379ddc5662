"""contact_merge / contact_merge_undo, as a service and over the API."""

import threading
import time

import pytest
from django.db import connection
from django.utils import translation

from okno.contacts import merge as merge_module
from okno.contacts.merge import contact_merge, contact_merge_undo
from okno.contacts.models import (
    Contact,
    ContactMerge,
    CustomField,
    DuplicatePair,
    FieldChange,
    MessengerHandle,
)
from okno.contacts.tests.factories import make_contact
from okno.core.errors import ApiError, FieldError
from okno.people.models import User
from okno.people.tests.factories import UserFactory
from okno.timeline.models import Activity
from okno.timeline.services import note_add


@pytest.fixture
def custom_fields(db):
    CustomField.objects.create(key="budget", label="Бюджет", type="number")
    CustomField.objects.create(key="segment", label="Сегмент", type="text")
    CustomField.objects.create(key="inn", label="ИНН", type="text")


@pytest.fixture
def two_cards(admin_user, custom_fields):
    """A kept card and a duplicate with overlapping and distinct data of every kind."""
    kept = make_contact(actor=admin_user, first_name="Иван", last_name="Петров", city="",
                        phones=["+7 916 123-45-67"], emails=["ivan@example.com"], tags=["vip"],
                        custom={"budget": 100})
    other = make_contact(actor=admin_user, first_name="Ваня", last_name="Петров", city="Тверь", source="сайт",
                         company="ООО Ромашка", phones=["8 916 123 45 67", "+7 903 000-00-01"],
                         emails=["ivan@example.com", "ivan@work.ru"], tags=["vip", "опт"],
                         custom={"budget": 500, "segment": "A"})
    MessengerHandle.objects.create(contact=other, kind="telegram", handle="12345")
    note_add(contact=kept, body="позвонить завтра", author=admin_user)
    note_add(contact=other, body="просил КП", author=admin_user)
    DuplicatePair.objects.create(contact_a=kept, contact_b=other, level="certain", score=1.0, reasons=["phone"])
    return kept, other


@pytest.fixture(autouse=True)
def _english():
    """The services' refusals are read in English here (the site's default language is Russian)."""
    with translation.override("en"):
        yield


def card_state(contact: Contact, upto: dict[str, int] | None = None) -> dict:
    """Everything a person sees on a card; rows newer than `upto` (made by merge/undo) are left out."""
    contact = Contact.objects.get(pk=contact.pk)
    upto = upto or {}
    return {
        "fields": (contact.first_name, contact.last_name, contact.middle_name, contact.city, contact.source,
                   contact.company_id, contact.responsible_id, contact.department_id, contact.status,
                   contact.merged_into_id, contact.custom),
        "phones": sorted(contact.phones.values_list("pk", "e164", "kind")),
        "emails": sorted(contact.emails.values_list("pk", "email")),
        "handles": sorted(contact.handles.values_list("pk", "kind", "handle")),
        "tags": sorted(contact.tags.values_list("name", flat=True)),
        "activities": sorted(Activity.objects.filter(contact=contact, pk__lte=upto.get("activity", 10**12))
                             .values_list("pk", flat=True)),
        "history": sorted(FieldChange.objects.filter(contact=contact, pk__lte=upto.get("history", 10**12))
                          .values_list("pk", flat=True)),
    }


def high_water() -> dict[str, int]:
    return {"activity": Activity.objects.order_by("-pk").values_list("pk", flat=True).first() or 0,
            "history": FieldChange.objects.order_by("-pk").values_list("pk", flat=True).first() or 0}


def test_everything_arrives_on_the_kept_card(admin_user, two_cards):
    kept, other = two_cards
    other_notes = set(Activity.objects.filter(contact=other).values_list("pk", flat=True))
    other_history = set(FieldChange.objects.filter(contact=other).values_list("pk", flat=True))
    # when the duplicate is merged into the kept card
    merge = contact_merge(actor=admin_user, keep_id=kept.pk, merge_ids=[other.pk])
    # then phones, e-mails, handles and tags are united without repeats
    kept.refresh_from_db()
    assert sorted(kept.phones.values_list("e164", flat=True)) == ["+79030000001", "+79161234567"]
    assert sorted(kept.emails.values_list("email", flat=True)) == ["ivan@example.com", "ivan@work.ru"]
    assert list(kept.handles.values_list("kind", "handle")) == [("telegram", "12345")]
    assert sorted(kept.tags.values_list("name", flat=True)) == ["vip", "опт"]
    # the repeats are not lost: they wait in the snapshot for an undo
    assert {d["reason"] for d in merge.snapshot["deleted"]} == {"duplicate", "unique", "duplicate pair"}
    # notes and history of the merged card are on the kept card's timeline
    assert other_notes <= set(Activity.objects.filter(contact=kept).values_list("pk", flat=True))
    assert other_history <= set(FieldChange.objects.filter(contact=kept).values_list("pk", flat=True))
    # the kept card's non-empty values win, the empty ones are filled, custom fields are united
    assert (kept.first_name, kept.city, kept.source, kept.company.name) == ("Иван", "Тверь", "сайт", "ООО Ромашка")
    assert kept.custom == {"budget": 100, "segment": "A"}
    # the merged card redirects, the pair is settled, the merge is on the timeline and in the history
    other.refresh_from_db()
    assert (other.status, other.merged_into_id) == (Contact.Status.MERGED, kept.pk)
    assert not DuplicatePair.objects.exists()
    activity = Activity.objects.get(contact=kept, kind=Activity.Kind.MERGE)
    assert activity.detail == merge and "Ваня" in activity.summary
    changes = dict(FieldChange.objects.filter(contact=kept, user=admin_user).values_list("field", "new"))
    assert changes["city"] == "Тверь" and changes["company"] == "ООО Ромашка"
    assert changes["merge"].startswith(f"merge #{merge.pk}")
    assert "+7 903 000-00-01" in changes["phones"]
    assert kept.search_text.endswith("ооо ромашка")


def test_field_choices_are_honoured(admin_user, two_cards):
    kept, other = two_cards
    # when the person picks the other card's first name and budget
    contact_merge(actor=admin_user, keep_id=kept.pk, merge_ids=[other.pk],
                  fields={"first_name": other.pk, "custom.budget": other.pk, "city": kept.pk})
    # then those values win, and an explicit choice of an empty value is kept
    kept.refresh_from_db()
    assert kept.first_name == "Ваня"
    assert kept.custom["budget"] == 500
    assert kept.city == ""
    assert FieldChange.objects.get(contact=kept, field="first_name", user=admin_user).old == "Иван"


def test_undo_restores_every_card_exactly(admin_user, two_cards):
    kept, other = two_cards
    before = {c.pk: card_state(c) for c in (kept, other)}
    mark = high_water()
    merge = contact_merge(actor=admin_user, keep_id=kept.pk, merge_ids=[other.pk],
                          fields={"first_name": other.pk, "custom.budget": other.pk})
    # when the merge is undone
    undone = contact_merge_undo(actor=admin_user, merge_id=merge.pk)
    # then both cards are as they were, row for row (same pks), and the merge is marked undone
    assert {c.pk: card_state(c, upto=mark) for c in (kept, other)} == before
    assert undone.undone_at is not None and undone.undone_by == admin_user
    assert DuplicatePair.objects.filter(contact_a=kept, contact_b=other).exists()
    # and the undo is on both timelines and in the history
    assert Activity.objects.filter(contact=other, kind=Activity.Kind.MERGE).count() == 1
    assert Activity.objects.filter(contact=kept, kind=Activity.Kind.MERGE).count() == 2
    assert FieldChange.objects.filter(contact=kept, field="first_name").order_by("-pk")[0].new == "Иван"
    # and a second undo is refused
    with pytest.raises(ApiError) as exc:
        contact_merge_undo(actor=admin_user, merge_id=merge.pk)
    assert exc.value.status == 409


def test_undo_leaves_fields_changed_since_the_merge(admin_user, api, two_cards):
    kept, other = two_cards
    merge = contact_merge(actor=admin_user, keep_id=kept.pk, merge_ids=[other.pk])
    api.patch(f"/api/v1/contacts/{kept.pk}", {"city": "Казань"})
    # when the merge is undone after someone changed the city the merge had filled in
    contact_merge_undo(actor=admin_user, merge_id=merge.pk)
    # then the person's later change stays, and the history says so
    kept.refresh_from_db()
    assert kept.city == "Казань"
    assert kept.source == ""
    assert "city" in FieldChange.objects.filter(contact=kept, field="merge").order_by("-pk")[0].new
    assert ContactMerge.objects.get(pk=merge.pk).snapshot["undo"]["left_as_is"] == ["city"]


def test_undo_is_refused_while_a_later_merge_stands(admin_user):
    a, b, c = (make_contact(actor=admin_user, first_name=n) for n in ("А", "Б", "В"))
    first = contact_merge(actor=admin_user, keep_id=a.pk, merge_ids=[b.pk])
    second = contact_merge(actor=admin_user, keep_id=a.pk, merge_ids=[c.pk])
    with pytest.raises(ApiError) as exc:
        contact_merge_undo(actor=admin_user, merge_id=first.pk)
    assert exc.value.status == 409 and f"#{second.pk}" in exc.value.detail
    # after the later one is undone, the earlier one can be
    contact_merge_undo(actor=admin_user, merge_id=second.pk)
    contact_merge_undo(actor=admin_user, merge_id=first.pk)
    assert Contact.objects.filter(status=Contact.Status.ACTIVE).count() == 3


def test_undo_is_refused_when_the_kept_card_was_merged_away(admin_user):
    a, b, c = (make_contact(actor=admin_user, first_name=n) for n in ("А", "Б", "В"))
    first = contact_merge(actor=admin_user, keep_id=a.pk, merge_ids=[b.pk])
    second = contact_merge(actor=admin_user, keep_id=c.pk, merge_ids=[a.pk])
    with pytest.raises(ApiError) as exc, translation.override("en"):
        contact_merge_undo(actor=admin_user, merge_id=first.pk)
    assert exc.value.status == 409
    assert f"#{a.pk} was later merged into #{c.pk}" in exc.value.detail and f"#{second.pk}" in exc.value.detail


def test_three_cards_in_one_merge(admin_user):
    a = make_contact(actor=admin_user, first_name="", last_name="Иванов", phones=["+7 916 000-00-01"])
    b = make_contact(actor=admin_user, first_name="Пётр", phones=["+7 916 000-00-02"])
    c = make_contact(actor=admin_user, first_name="Павел", phones=["+7 916 000-00-03"])
    merge = contact_merge(actor=admin_user, keep_id=a.pk, merge_ids=[b.pk, c.pk, b.pk])
    a.refresh_from_db()
    # the first non-empty value in the order given fills the kept card's gap
    assert a.first_name == "Пётр"
    assert a.phones.count() == 3
    assert merge.merged_ids == [b.pk, c.pk]


@pytest.mark.parametrize("body, field", [
    ({"keep_id": "K", "merge_ids": []}, "merge_ids"),
    ({"keep_id": "K", "merge_ids": ["K"]}, "merge_ids"),
    ({"keep_id": "K", "merge_ids": ["O"], "fields": {"colour": "O"}}, "fields.colour"),
    ({"keep_id": "K", "merge_ids": ["O"], "fields": {"first_name": 999999}}, "fields.first_name"),
])
def test_bad_input_is_400_naming_the_field(api, two_cards, body, field):
    kept, other = two_cards
    ids = {"K": kept.pk, "O": other.pk}

    def sub(v):
        return [sub(x) for x in v] if isinstance(v, list) else {k: sub(x) for k, x in v.items()} \
            if isinstance(v, dict) else ids.get(v, v)

    r = api.post("/api/v1/contacts/merge", sub(body))
    assert r.status_code == 400, r.content
    assert [e["field"] for e in r.json()["errors"]] == [field]
    assert not ContactMerge.objects.exists()


def test_merging_a_merged_card_is_409_with_the_reason(api, admin_user, two_cards):
    kept, other = two_cards
    third = make_contact(actor=admin_user, first_name="Третий")
    contact_merge(actor=admin_user, keep_id=kept.pk, merge_ids=[other.pk])
    r = api.post("/api/v1/contacts/merge", {"keep_id": third.pk, "merge_ids": [other.pk]})
    assert r.status_code == 409
    # in the user's language (Russian here): "Уже объединены: №2 уже объединена с №1"
    assert f"№{other.pk} уже объединена с №{kept.pk}" in r.json()["detail"]
    assert r.json()["errors"][0]["field"] == "merge_ids"
    assert Contact.objects.get(pk=third.pk).status == Contact.Status.ACTIVE


def test_cards_the_actor_may_not_see_are_404(api_as, two_cards):
    kept, other = two_cards  # made by the admin: no department, nobody's
    manager = UserFactory(role=User.Role.MANAGER)
    mine = make_contact(actor=manager, first_name="Мой")
    # when a manager names a card outside their view, or one that does not exist
    for ids in ([other.pk], [999999]):
        r = api_as(manager).post("/api/v1/contacts/merge", {"keep_id": mine.pk, "merge_ids": ids})
        # then it is 404, and nothing moved
        assert r.status_code == 404, r.content
    assert Contact.objects.filter(status=Contact.Status.ACTIVE).count() == 3
    assert not ContactMerge.objects.exists()


def test_api_merge_redirect_and_undo(api, two_cards, client, admin_user):
    kept, other = two_cards
    # when merged over the API
    r = api.post("/api/v1/contacts/merge", {"keep_id": kept.pk, "merge_ids": [other.pk],
                                            "fields": {"first_name": other.pk}})
    # then the answer names the merge and shows the kept card as it is now
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["contact"]["id"] == kept.pk and body["contact"]["first_name"] == "Ваня"
    assert sorted(body["contact"]["tags"]) == ["vip", "опт"]
    assert ContactMerge.objects.get(pk=body["merge_id"]).kept_id == kept.pk
    # and the merged card's URL answers 301 to the kept one, in the API and in the UI
    gone = api.get(f"/api/v1/contacts/{other.pk}")
    assert gone.status_code == 301 and gone["Location"] == f"/api/v1/contacts/{kept.pk}"
    client.force_login(admin_user)
    page = client.get(f"/contacts/{other.pk}/")
    assert page.status_code == 302 and page["Location"] == f"/contacts/{kept.pk}/"
    # and a write aimed at the merged card is refused, naming the kept one
    refused = api.patch(f"/api/v1/contacts/{other.pk}", {"city": "Тверь"})
    assert refused.status_code == 409 and refused.json()["merged_into"] == kept.pk
    assert api.post(f"/api/v1/contacts/{other.pk}/notes", {"body": "x"}).status_code == 409
    # when undone over the API
    u = api.post(f"/api/v1/contacts/merges/{body['merge_id']}/undo")
    assert u.status_code == 200, u.content
    assert u.json()["restored_ids"] == [other.pk] and u.json()["contact"]["first_name"] == "Иван"
    assert api.get(f"/api/v1/contacts/{other.pk}").status_code == 200
    assert api.post(f"/api/v1/contacts/merges/{body['merge_id']}/undo").status_code == 409
    assert api.post("/api/v1/contacts/merges/999999/undo").status_code == 404


def test_undo_of_a_merge_the_actor_may_not_see_is_404(api_as, admin_user, two_cards):
    kept, other = two_cards
    merge = contact_merge(actor=admin_user, keep_id=kept.pk, merge_ids=[other.pk])
    outsider = UserFactory(role=User.Role.MANAGER)
    assert api_as(outsider).post(f"/api/v1/contacts/merges/{merge.pk}/undo").status_code == 404
    assert ContactMerge.objects.get(pk=merge.pk).undone_at is None


@pytest.mark.django_db(transaction=True)
def test_two_people_merging_the_same_cards_at_once(monkeypatch):
    """Two merges of the same pair in opposite directions: one wins, the other gets a 409.

    The first merge is held inside its transaction (after moving the rows) while the
    second starts; without the lock the second would read both cards as active and
    end with each card merged into the other.
    """
    admin = UserFactory(role=User.Role.ADMIN, department=None)
    a = make_contact(actor=admin, first_name="А", phones=["+7 916 000-00-01"])
    b = make_contact(actor=admin, first_name="Б", phones=["+7 916 000-00-02"])
    inside, results = threading.Event(), {}
    original = merge_module.activity_record

    def slow_record(**kwargs):
        if threading.current_thread().name == "first":
            inside.set()
            time.sleep(1.0)  # long enough for the second merge to reach the lock and wait
            results["first_holding_until"] = time.monotonic()  # still inside its transaction
        return original(**kwargs)

    monkeypatch.setattr(merge_module, "activity_record", slow_record)

    def merge_waiting(keep, other):
        # The second merge waits: on PostgreSQL for the row locks, on SQLite (a file database in
        # the tests as in production, conftest.py) for the write lock, on the busy timeout.
        return contact_merge(actor=admin, keep_id=keep.pk, merge_ids=[other.pk])

    def run(name, keep, other):
        try:
            results[name] = merge_waiting(keep, other)
        except ApiError as exc:
            results[name] = exc
        finally:
            results[name + "_at"] = time.monotonic()
            connection.close()

    first = threading.Thread(target=run, name="first", args=("first", a, b))
    second = threading.Thread(target=run, name="second", args=("second", b, a))
    first.start()
    assert inside.wait(10)
    second.start()
    first.join(20)
    second.join(20)

    assert isinstance(results["first"], ContactMerge)
    assert isinstance(results["second"], ApiError) and results["second"].status == 409
    # it waited for the first's transaction (the first's own finish time is taken after its commit,
    # and the second, released by that commit, could note its time a few milliseconds sooner)
    assert results["second_at"] >= results["first_holding_until"]
    assert list(Contact.objects.filter(status=Contact.Status.ACTIVE).values_list("pk", flat=True)) == [a.pk]
    assert sorted(Contact.objects.get(pk=a.pk).phones.values_list("e164", flat=True)) == [
        "+79160000001", "+79160000002"]
    assert ContactMerge.objects.count() == 1


def test_fields_must_name_a_card_of_the_merge(admin_user, two_cards):
    kept, other = two_cards
    with pytest.raises(FieldError) as exc:
        contact_merge(actor=admin_user, keep_id=kept.pk, merge_ids=[other.pk], fields={"city": True})
    assert exc.value.by_field == {"fields.city": "must be the id of one of the cards being merged"}
