import pytest
from django.db import connection

from okno.contacts.models import Contact, ContactPhone
from okno.core.bulk import insert_rows


@pytest.mark.django_db
def test_deleting_more_cards_than_a_statement_takes_parameters(settings):
    # given 70,000 cards (PostgreSQL with server-side parameters takes at most 65,535 per statement)
    if connection.vendor != "postgresql":
        pytest.skip("SQLite batches by its own limit in Django itself")
    insert_rows(Contact, [{"first_name": "b", "source": "bulk"} for _ in range(70_000)])
    ids = list(Contact.objects.filter(source="bulk").values_list("pk", flat=True))
    insert_rows(ContactPhone, [{"contact_id": ids[0], "e164": "+79161234567"}])
    # when they are deleted with their related rows (the cascade collects them by id lists)
    Contact.objects.filter(source="bulk").delete()
    # then it works and nothing is left
    assert not Contact.objects.filter(source="bulk").exists() and not ContactPhone.objects.exists()
