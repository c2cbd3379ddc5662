"""An import follows the identity rule of docs/duplicates.md: an office's main number on a card
is not proof that another person's row is that card (issue 14)."""

import pytest
from django.utils import translation

from okno.contacts.models import Contact
from okno.contacts.tests.factories import make_contact
from okno.contacts.tests.test_imports import HEADER, csv_file, run

OFFICE = "+7 495 123-45-67"  # a Moscow landline: an office's main number


@pytest.fixture(autouse=True)
def _english(settings, tmp_path):
    settings.LANGUAGE_CODE = "en"
    settings.MEDIA_ROOT = tmp_path
    with translation.override("en"):
        yield


def test_a_colleague_on_the_office_landline_gets_a_card_of_their_own(admin_user):
    # given: Ivan's card with the office's main number
    ivan = make_contact(actor=admin_user, first_name="Иван", last_name="Петров", phones=[OFFICE])
    upload = csv_file([HEADER, ["Сидорова", "Мария", "", OFFICE, "", "", ""],
                       ["Петров", "Иван", "", OFFICE, "", "", ""]])
    # when
    job = run(admin_user, upload, on_duplicate="skip")
    # then: Maria is a new card; Ivan's row is his card (the names agree)
    assert (job.created_count, job.skipped_count) == (1, 1), job.errors
    assert Contact.objects.filter(first_name="Мария", phones__e164="+74951234567").exists()
    skipped = [e for e in job.errors if e.get("kind") == "skipped"]
    assert skipped and skipped[0]["contact_id"] == ivan.pk


def test_two_colleagues_in_one_file_on_one_landline_are_two_cards(admin_user):
    upload = csv_file([HEADER, ["Петров", "Иван", "", OFFICE, "", "", ""],
                       ["Сидорова", "Мария", "", OFFICE, "", "", ""],
                       ["Петров", "Иван", "", OFFICE, "", "", ""]])
    job = run(admin_user, upload, on_duplicate="skip")
    # then: Ivan twice is one card, Maria another
    assert (job.created_count, job.skipped_count) == (2, 1), job.errors


def test_a_mobile_still_finds_its_card_whatever_the_name(admin_user):
    anna = make_contact(actor=admin_user, first_name="Анна", last_name="Серова", phones=["+7 916 123-45-67"])
    job = run(admin_user, csv_file([HEADER, ["Серова", "Аня", "", "+7 916 123-45-67", "", "", ""]]),
              on_duplicate="skip")
    assert (job.created_count, job.skipped_count) == (0, 1)
    assert [e for e in job.errors if e.get("kind") == "skipped"][0]["contact_id"] == anna.pk
