from django.db import connection

from okno.contacts.duplicates import duplicate_groups, duplicates_drain, duplicates_scan, match_keys_rebuild
from okno.contacts.models import Contact, ContactMatchKey, DuplicatePair
from okno.contacts.tests.factories import make_contact
from okno.core import worker


def pairs():
    return {(p.contact_a_id, p.contact_b_id): p.level for p in DuplicatePair.objects.all()}


def test_scan_stores_certain_and_likely_pairs_but_not_namesakes(admin_user):
    # given a phone duplicate, a company typo duplicate, and a namesake
    a = make_contact(first_name="Иван", last_name="Петров", phones=["+7 916 123-45-67"])
    b = make_contact(first_name="Ваня", last_name="Петров", phones=["8 (916) 123-45-67"])
    c = make_contact(first_name="Ольга", last_name="Смирнова", company="ООО «Ромашка»")
    d = make_contact(first_name="Ольга", last_name="Смирнва", company="Ромашка")
    make_contact(first_name="Ольга", last_name="Смирнова")
    # when the scan drains
    assert duplicates_scan() == 5
    # then the certain and likely pairs are stored, the namesake is not, and nothing is dirty
    assert pairs() == {(a.pk, b.pk): "certain", (c.pk, d.pk): "likely"}
    assert not Contact.objects.filter(dedup_dirty=True).exists()
    groups = duplicate_groups(user=admin_user)
    assert [g.ids for g in groups] == [[a.pk, b.pk], [c.pk, d.pk]]
    assert groups[0].pairs[0].reasons == ["same phone +7 916 123-45-67",
                                          "name 95% similar, short form of the first name"]


def test_scan_is_incremental_and_keeps_dismissed_pairs_dismissed(db):
    a = make_contact(first_name="Иван", last_name="Петров", phones=["+79161234567"])
    b = make_contact(first_name="Иван", last_name="Петров", phones=["+79161234567"])
    duplicates_scan()
    DuplicatePair.objects.update(dismissed=True)
    # when a card changes and the scan runs again, fully
    c = make_contact(first_name="Пётр", last_name="Петров", phones=["+79161234567"])
    assert Contact.objects.filter(dedup_dirty=True).count() == 1
    duplicates_scan(full=True)
    # then the dismissed pair stays dismissed and the new pairs appear
    assert DuplicatePair.objects.get(contact_a=a, contact_b=b).dismissed
    assert pairs() == {(a.pk, b.pk): "certain", (a.pk, c.pk): "certain", (b.pk, c.pk): "certain"}


def test_pairs_go_when_evidence_or_contact_goes(db):
    make_contact(first_name="Иван", last_name="Петров", phones=["+79161234567"])
    b = make_contact(first_name="Иван", last_name="Петров", phones=["+79161234567"])
    make_contact(first_name="Анна", last_name="Сидорова", emails=["anna@x.ru"])
    d = make_contact(first_name="Анна", last_name="Сидорова", emails=["anna@x.ru"])
    duplicates_scan()
    assert len(pairs()) == 2
    # when b's phone changes (dirty again) and d is deleted (not marked dirty by the delete)
    from okno.contacts import services
    services.contact_update(actor=None, contact=b, data=services.contact_data_clean(
        {"phones": ["+79037654321"]}, actor=None, partial=True))
    Contact.objects.filter(pk=d.pk).update(status=Contact.Status.DELETED)
    duplicates_scan()
    # then both pairs are gone
    assert pairs() == {}


def test_drain_takes_batches_and_is_registered(db):
    for i in range(5):
        make_contact(first_name="Иван", last_name=f"Петров{i}", phones=["+79161234567"])
    assert duplicates_drain(limit=2) == 2
    assert Contact.objects.filter(dedup_dirty=True).count() == 3
    assert "duplicates" in {d.name for d in worker.drains()}
    assert worker.run_once()["duplicates"] == 3
    assert len(pairs()) == 10


def test_claim_skips_rows_locked_by_another_worker(transactional_db):
    if connection.vendor != "postgresql":
        # SQLite has one writer at a time: its IMMEDIATE transaction is the lock.
        return
    import threading

    from django.db import transaction
    make_contact(first_name="Иван", last_name="Петров")
    make_contact(first_name="Пётр", last_name="Сидоров")
    from okno.contacts.duplicates import _claim
    got = {}

    def other():
        with transaction.atomic():
            got["other"] = _claim(10)
        connection.close()

    with transaction.atomic():
        mine = _claim(1)
        t = threading.Thread(target=other)
        t.start()
        t.join()
    assert len(mine) == 1 and mine[0] not in got["other"] and len(got["other"]) == 1


def test_rebuild_keys_restores_the_index(db):
    c = make_contact(first_name="Иван", last_name="Петров", company="Ромашка")
    ContactMatchKey.objects.all().delete()
    assert match_keys_rebuild() == 1
    assert set(ContactMatchKey.objects.filter(contact=c).values_list("key", flat=True)) == {
        "n:ivan|petrov", "c:ромашка|p", "c:ромашка|i"}
