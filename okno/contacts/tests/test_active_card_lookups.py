"""Batch look-ups of phones, e-mails and handles on active cards: right answers, and plans that
never start from the cards (which, without statistics, walked every active card)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from okno.contacts import import_bulk
from okno.contacts.identify import identity_keys_known
from okno.contacts.models import Contact, ContactEmail, ContactPhone
from okno.contacts.selectors import rows_of_active_cards
from okno.contacts.tests.factories import make_contact
from okno.telephony.cdr_bulk import keyed_lookup

pytestmark = pytest.mark.django_db

sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite",
                                 reason="SQLite's planner, which has no statistics unless analysed")


def test_only_active_cards_rows_are_found_ordered_by_card():
    # given two active cards sharing a number and a merged-away card with another
    older = make_contact(phones=["+7 916 111-11-11"], emails=["olga@example.ru"])
    newer = make_contact(phones=["+7 916 111-11-11", "+7 916 222-22-22"])
    gone = make_contact(phones=["+7 916 333-33-33"], emails=["gone@example.ru"])
    Contact.objects.filter(pk=gone.pk).update(status=Contact.Status.MERGED)
    # when the numbers are looked up, with one nobody has
    rows = rows_of_active_cards(ContactPhone.objects, "e164", ["+79163333333", "+79161111111", "+79162222222",
                                                                "+79164444444"], ("e164",))
    # then only the active cards' rows come back, the oldest card first
    assert rows == [("+79161111111", older.pk), ("+79161111111", newer.pk), ("+79162222222", newer.pk)]
    # and the batch paths built on it agree
    keys = {("phone", "+79161111111"), ("phone", "+79163333333"), ("email", "olga@example.ru"),
            ("email", "gone@example.ru"), ("telegram", "1")}
    assert identity_keys_known(keys) == {("phone", "+79161111111"), ("email", "olga@example.ru")}
    by_phone, by_email = import_bulk.certain_matches(phones={("+79161111111", ""), ("+79163333333", "")},
                                                     emails={"olga@example.ru", "gone@example.ru"})
    assert by_phone == {("+79161111111", ""): [older.pk, newer.pk]}
    assert by_email == {"olga@example.ru": [older.pk]}


def _outer_loops(sql_list: list[str]) -> list[str]:
    """The first table each query's plan reads (SQLite's EXPLAIN QUERY PLAN)."""
    firsts = []
    with connection.cursor() as cursor:
        for sql in sql_list:
            cursor.execute("EXPLAIN QUERY PLAN " + sql)
            firsts.append(next(row[3] for row in cursor.fetchall() if row[3].startswith(("SEARCH", "SCAN"))))
    return firsts


@sqlite_only
def test_a_batch_of_senders_is_looked_up_from_their_numbers_not_from_every_card():
    # given a batch of 300 senders' numbers and addresses (no statistics: a new database)
    make_contact(phones=["+7 916 111-11-11"], emails=["olga@example.ru"])
    keys = {("phone", f"+7916{n:07d}") for n in range(300)} | {("email", f"c{n}@example.ru") for n in range(300)}
    # when the worker's and the import's batch look-ups run
    with CaptureQueriesContext(connection) as queries:
        identity_keys_known(keys)
        import_bulk.certain_matches(phones={(v, "") for k, v in keys if k == "phone"},
                                    emails={v for k, v in keys if k == "email"})
    selects = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT")]
    # then no query starts by walking the cards through their status index (a million cards:
    # 0.3 s a look-up); each starts from the numbers, the addresses or the cards' ids
    assert selects
    for first in _outer_loops(selects):
        assert "contacts_contact " not in first or "rowid" in first or "PRIMARY KEY" in first, first


@sqlite_only
def test_the_cdr_imports_card_look_up_starts_from_the_numbers():
    # given 2,000 numbers of a CDR chunk
    numbers = [f"+7916{n:07d}" for n in range(2000)]
    # when the card look-up is planned as the importer writes it
    sql, params = keyed_lookup(ContactPhone._meta.db_table, "e164", numbers, "t.e164, t.contact_id",
                               join=f"JOIN {Contact._meta.db_table} c ON c.id = t.contact_id AND c.status = 'active'")
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        plan = [row[3] for row in cursor.fetchall()]
    # then the numbers' index drives it and each card is one look-up by id
    assert plan[0].startswith("SEARCH t USING INDEX") and "e164" in plan[0], plan
    assert any("rowid=?" in step for step in plan[1:]), plan


def test_e_mails_of_cards_no_longer_active_are_not_known():
    # given a card whose only address stays on it after it was deleted
    card = make_contact(emails=["left@example.ru"])
    Contact.objects.filter(pk=card.pk).update(status=Contact.Status.DELETED)
    assert ContactEmail.objects.filter(email="left@example.ru").exists()
    # then nobody active is known by it
    assert rows_of_active_cards(ContactEmail.objects, "email", ["left@example.ru"], ("email",)) == []
    assert identity_keys_known({("email", "left@example.ru")}) == set()
