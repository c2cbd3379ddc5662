import csv
import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from okno.contacts import import_bulk, imports, matching
from okno.contacts.models import (
    Contact,
    ContactMatchKey,
    CustomField,
    FieldChange,
    ImportJob,
)
from okno.contacts.tests.factories import make_contact
from okno.core.errors import FieldError
from okno.people.tests.factories import DepartmentFactory, UserFactory


@pytest.fixture(autouse=True)
def _english(settings):
    """The reasons are read in English here (pages and the worker fall back to LANGUAGE_CODE)."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def csv_file(rows: list[list[str]], *, encoding="cp1251", delimiter=";", name="clients.csv") -> SimpleUploadedFile:
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter).writerows(rows)
    text = buf.getvalue()
    return SimpleUploadedFile(name, text.encode(encoding), content_type="text/csv")


def xlsx_file(rows: list[list], name="clients.xlsx") -> SimpleUploadedFile:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    buf = io.BytesIO()
    book.save(buf)
    return SimpleUploadedFile(name, buf.getvalue())


HEADER = ["Фамилия", "Имя", "Отчество", "Телефон", "E-mail", "Компания", "Город"]


def create(*, actor, upload, **kwargs) -> ImportJob:
    """Upload, then the worker's inspection (its task runs after the upload's commit)."""
    job = imports.import_job_create(actor=actor, upload=upload, **kwargs)
    return imports.import_job_inspect(job_id=job.pk)


def run(actor, upload, **kwargs) -> ImportJob:
    job = create(actor=actor, upload=upload, **kwargs)
    return imports.import_job_run(job_id=job.pk)


def test_cp1251_semicolon_csv_is_mapped_from_russian_headers_and_imported(admin_user):
    # given a Russian Excel export: cp1251, ";" and phones in mixed formats
    upload = csv_file([HEADER,
                       ["Петров", "Пётр", "Ильич", "8 (916) 123-45-67", "Petr@Mail.RU", "ООО Ромашка", "Москва"],
                       ["Сидорова", "Анна", "", "+7 903 000-00-01; 8-903-000-00-02", "", "", "Тверь"]])
    # when it is uploaded
    job = create(actor=admin_user, upload=upload)
    # then encoding, delimiter and every column are recognised
    assert job.mapping["file"]["encoding"] == "cp1251"
    assert job.mapping["file"]["delimiter"] == ";"
    assert job.mapping["fields"] == {"0": "last_name", "1": "first_name", "2": "middle_name", "3": "phones",
                                     "4": "emails", "5": "company", "6": "city"}
    # and the run stores normalised cards
    job = imports.import_job_run(job_id=job.pk)
    assert (job.status, job.total_rows, job.created_count, job.error_count) == ("done", 2, 2, 0)
    petrov = Contact.objects.get(last_name="Петров")
    assert [p.e164 for p in petrov.phones.all()] == ["+79161234567"]
    assert [e.email for e in petrov.emails.all()] == ["petr@mail.ru"]
    assert (petrov.company.name, petrov.city, petrov.middle_name) == ("ООО Ромашка", "Москва", "Ильич")
    assert petrov.search_text == "петров петр ильич ооо ромашка"
    anna = Contact.objects.get(last_name="Сидорова")
    assert [p.e164 for p in anna.phones.all()] == ["+79030000001", "+79030000002"]


def test_utf8_bom_comma_and_tab_files_are_read(admin_user):
    for i, (encoding, delimiter) in enumerate([("utf-8-sig", ","), ("utf-8", "\t")]):
        job = run(admin_user, csv_file([["Name", "Phone"], [f"Ivanov Ivan {encoding}", f"+7 916 555-00-0{i}"]],
                                       encoding=encoding, delimiter=delimiter))
        assert job.mapping["file"]["delimiter"] == delimiter
        assert job.created_count == 1, job.errors
    assert Contact.objects.filter(last_name="Ivanov").count() == 2


def test_xlsx_with_title_line_fio_column_and_numeric_phones(admin_user):
    # given an XLSX whose first line is a title and whose phones Excel stored as numbers
    upload = xlsx_file([["Выгрузка клиентов за март"], [],
                        ["ФИО", "Мобильный", "Эл. почта", "Теги"],
                        ["Кузнецов Алексей Петрович", 79161112233, "a@k.ru", "vip, опт"],
                        ["Мария Ивановна Смирнова", 89035554433.0, None, None]])
    # when imported
    job = run(admin_user, upload)
    # then the header is found on line 3, names are split, numbers read as phones
    assert job.mapping["file"]["header_row"] == 3
    assert (job.created_count, job.error_count) == (2, 0), job.errors
    kuz = Contact.objects.get(last_name="Кузнецов")
    assert (kuz.first_name, kuz.middle_name) == ("Алексей", "Петрович")
    assert [p.e164 for p in kuz.phones.all()] == ["+79161112233"]
    assert sorted(t.name for t in kuz.tags.all()) == ["vip", "опт"]
    smirnova = Contact.objects.get(last_name="Смирнова")
    assert (smirnova.first_name, smirnova.middle_name) == ("Мария", "Ивановна")


def test_bad_rows_are_reported_and_the_good_rows_around_them_stored(admin_user):
    # given rows 3 and 4 are bad
    upload = csv_file([HEADER,
                       ["Орлов", "Олег", "", "+7 916 000-11-22", "", "", ""],
                       ["Плохой", "", "", "12", "not-an-email", "", ""],
                       ["", "", "", "", "", "Только компания", ""],
                       ["Белов", "Борис", "", "+7 916 000-11-33", "", "", ""]])
    # when imported
    job = run(admin_user, upload)
    # then the good rows are stored and each bad field is named with its row and value
    assert (job.status, job.created_count, job.error_count) == ("done", 2, 2)
    assert set(Contact.objects.values_list("last_name", flat=True)) == {"Орлов", "Белов"}
    errors = {(e["row"], e["field"]): e for e in job.errors if e["kind"] == "error"}
    assert set(errors) == {(3, "phones[0]"), (3, "emails[0]"), (4, "first_name")}
    assert errors[(3, "phones[0]")]["value"] == "12"
    assert "not a valid phone" in errors[(3, "phones[0]")]["reason"] or "not a phone" in errors[(3, "phones[0]")][
        "reason"]


def test_preview_shows_mapping_errors_and_duplicates_without_writing(admin_user):
    # given an existing customer
    old = make_contact(first_name="Иван", last_name="Петров", phones=["+7 916 123-45-67"])
    upload = csv_file([HEADER,
                       ["Новый", "Клиент", "", "+7 926 000-00-01", "", "", ""],
                       ["Петров", "Ваня", "", "89161234567", "", "", ""],
                       ["Ошибка", "", "", "abc", "", "", ""],
                       ["Новый", "Дубль", "", "+7 (926) 000-00-01", "", "", ""]])
    job = create(actor=admin_user, upload=upload)
    # when previewed
    preview = imports.import_preview(job=job, actor=admin_user)
    # then each row shows its status and what would happen, and nothing is written
    assert [(p["row"], p["status"], p["action"]) for p in preview] == [
        (2, "new", "create"), (3, "duplicate", "skip"), (4, "error", "none"), (5, "duplicate", "skip")]
    assert preview[0]["values"]["phones"] == "+7 926 000-00-01"
    assert preview[1]["duplicate_of"]["contact_id"] == old.pk
    assert preview[3]["duplicate_of"]["row"] == 2
    assert "row 2" in preview[3]["duplicate_of"]["reason"]
    assert Contact.objects.count() == 1


def test_skip_reports_the_existing_card_and_the_earlier_row(admin_user):
    old = make_contact(first_name="Иван", last_name="Петров", emails=["ivan@p.ru"])
    upload = csv_file([HEADER,
                       ["Петров", "Иван", "", "", "IVAN@p.ru", "", ""],
                       ["Новикова", "Нина", "", "+7 916 222-33-44", "", "", ""],
                       ["Новикова", "Н.", "", "8 916 222 33 44", "", "", ""]])
    job = run(admin_user, upload, on_duplicate="skip")
    assert (job.created_count, job.skipped_count, job.merged_count) == (1, 2, 0)
    skipped = {e["row"]: e for e in job.errors if e["kind"] == "skipped"}
    assert skipped[2]["contact_id"] == old.pk and "same e-mail ivan@p.ru" in skipped[2]["reason"]
    assert skipped[4]["duplicate_row"] == 3
    assert Contact.objects.count() == 2


def test_merge_enriches_the_existing_card_and_joins_rows_of_the_file(admin_user):
    # given a card with a phone only
    old = make_contact(first_name="Иван", last_name="Петров", phones=["+7 916 123-45-67"], city="")
    upload = csv_file([HEADER,
                       ["Петров", "Ванечка", "Ильич", "8 916 123 45 67, +7 903 111-22-33", "ivan@p.ru", "", "Казань"],
                       ["Лебедев", "Лев", "", "+7 926 777-88-99", "", "", ""],
                       ["Лебедев", "Лев", "Львович", "+7 926 777-88-99", "lev@l.ru", "", ""]])
    # when imported with merge
    job = run(admin_user, upload, on_duplicate="merge")
    # then the old card gains the new phone, e-mail and empty fields, keeping its name
    assert (job.created_count, job.merged_count, job.skipped_count) == (1, 2, 0), job.errors
    old.refresh_from_db()
    assert old.first_name == "Иван"
    assert (old.middle_name, old.city) == ("Ильич", "Казань")
    assert [p.e164 for p in old.phones.all()] == ["+79161234567", "+79031112233"]
    assert [e.email for e in old.emails.all()] == ["ivan@p.ru"]
    assert FieldChange.objects.filter(contact=old, field="city", new="Казань").exists()
    # and the two rows of one new customer become one card
    lev = Contact.objects.get(last_name="Лебедев")
    assert (lev.middle_name, [e.email for e in lev.emails.all()]) == ("Львович", ["lev@l.ru"])


def test_merge_into_a_card_written_by_an_earlier_batch(admin_user, monkeypatch):
    monkeypatch.setattr(imports, "BATCH_ROWS", 1)
    upload = csv_file([HEADER, ["Лебедев", "Лев", "", "+7 926 777-88-99", "", "", ""],
                       ["Лебедев", "Лев", "", "+7 926 777-88-99", "lev@l.ru", "", ""]])
    job = run(admin_user, upload, on_duplicate="merge")
    assert (job.created_count, job.merged_count) == (1, 1)
    assert [e.email for e in Contact.objects.get().emails.all()] == ["lev@l.ru"]


def test_create_makes_a_card_even_for_a_duplicate(admin_user):
    make_contact(phones=["+7 916 123-45-67"])
    job = run(admin_user, csv_file([HEADER, ["Петров", "Иван", "", "+79161234567", "", "", ""],
                                    ["Петров", "Иван", "", "+79161234567", "", "", ""]]), on_duplicate="create")
    assert (job.created_count, job.skipped_count) == (2, 0)
    assert Contact.objects.filter(phones__e164="+79161234567").count() == 3


def test_manager_import_does_not_name_or_merge_another_departments_card(admin_user):
    # given a card of another department
    other = make_contact(actor=UserFactory(), first_name="Чужой", phones=["+7 916 123-45-67"])
    manager = UserFactory(department=DepartmentFactory())
    # when a manager imports the same phone with merge
    job = run(manager, csv_file([HEADER, ["Свой", "Клиент", "", "+7 916 123-45-67", "x@y.ru", "", ""],
                                 ["Свой", "Клиент", "", "", "x@y.ru", "", "Тверь"]]), on_duplicate="merge")
    # then both rows (the second repeats the first) are skipped without naming the card, which is unchanged
    assert (job.skipped_count, job.merged_count, job.created_count) == (2, 0, 0)
    first, second = job.errors
    assert first["contact_id"] is None and "cannot see" in first["reason"] and f"#{other.pk}" not in first["reason"]
    assert (second["contact_id"], second["duplicate_row"]) == (None, 2)
    other.refresh_from_db()
    assert not other.emails.exists() and other.city == ""


def test_responsible_and_custom_fields_map_by_username_and_label(admin_user):
    CustomField.objects.create(key="budget", label="Бюджет", type="number")
    manager = UserFactory(username="olga")
    job = run(admin_user, csv_file([["Имя", "Телефон", "Ответственный", "Бюджет"],
                                    ["Ира", "+7 916 000-00-10", "OLGA", "1500,5"],
                                    ["Юра", "+7 916 000-00-11", "nobody", "много"]]))
    assert job.mapping["fields"] == {"0": "first_name", "1": "phones", "2": "responsible", "3": "custom.budget"}
    ira = Contact.objects.get(first_name="Ира")
    assert (ira.responsible_id, ira.department_id, ira.custom) == (manager.pk, manager.department_id,
                                                                   {"budget": 1500.5})
    assert {e["field"] for e in job.errors if e["row"] == 3} == {"responsible", "custom.budget"}


def test_bulk_create_writes_what_a_single_create_writes(admin_user):
    # given the same card made by hand and by import
    fields = {"first_name": "Семён", "last_name": "Ёлкин", "phones": ["+7 916 444-55-66 доб. 7"],
              "emails": ["s@e.ru"], "company": "Ёлка", "city": "Омск", "tags": ["b", "a"]}
    by_hand = make_contact(actor=admin_user, **fields)
    job = run(admin_user, csv_file([["Имя", "Фамилия", "Телефон", "E-mail", "Компания", "Город", "Теги"],
                                    ["Семён", "Ёлкин", "+7 916 444-55-66 доб. 8", "s2@e.ru", "ёлка", "Омск", "a, b"]]),
              on_duplicate="create")
    imported = Contact.objects.exclude(pk=by_hand.pk).get()

    def shape(c: Contact):
        return (c.search_text, c.company_id, c.dedup_dirty, c.department_id, c.created_by_id,
                sorted(t.name for t in c.tags.all()), sorted(ContactMatchKey.objects.filter(contact=c)
                                                             .values_list("key", flat=True)),
                list(FieldChange.objects.filter(contact=c).values_list("field", "new")))

    # then both have the same derived rows (the company found by its folded name)
    assert job.created_count == 1
    assert shape(imported) == shape(by_hand)
    assert imported.phones.get().extension == "8"


def test_batch_matching_agrees_with_find_candidates(admin_user):
    # given cards with phones (one with an extension), an e-mail, and a merged-away card
    a = make_contact(phones=["+7 916 100-00-01"], emails=["a@a.ru"])
    b = make_contact(first_name="Олег", last_name="Ким", phones=["+7 916 100-00-02"])
    office = make_contact(first_name="Зоя", last_name="Лис", phones=["+7 495 100-00-00 доб. 12"])
    make_contact(first_name="Яна", last_name="Рыс", phones=["+7 495 100-00-00 доб. 13"])
    gone = make_contact(first_name="Ада", last_name="Бор", phones=["+7 916 100-00-03"])
    Contact.objects.filter(pk=gone.pk).update(status=Contact.Status.MERGED)
    phones = {("+79161000001", ""), ("+79161000002", ""), ("+79161000003", ""), ("+74951000000", "12")}
    # when the batch lookup and the single search look for the same keys
    by_phone, by_email = import_bulk.certain_matches(phones=phones, emails={"a@a.ru"})
    probe = matching.Probe(phones=[e for e, x in phones if not x], emails=["a@a.ru"],
                           phones_ext=[(e, x) for e, x in phones if x])
    single = {c.contact_id for c in matching.find_candidates(probe) if c.level == "certain"}
    # then they find the same cards: active ones, the extension matching only itself
    assert {cid for ids in [*by_phone.values(), *by_email.values()] for cid in ids} == single == {
        a.pk, b.pk, office.pk}


def test_oversized_file_is_refused_before_parsing(admin_user, settings):
    settings.OKNO_IMPORT_MAX_BYTES = 100
    with pytest.raises(FieldError) as err:
        imports.import_job_create(actor=admin_user, upload=csv_file([HEADER] + [["А", "Б", "", "", "", "", ""]] * 20))
    assert err.value.errors[0]["field"] == "file" and "limit" in err.value.errors[0]["reason"]
    assert not ImportJob.objects.exists() and not Contact.objects.exists()


@pytest.mark.parametrize("content, message", [
    (b"", "empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "neither CSV nor XLSX"),
    (b"PK\x03\x04" + b"garbage" * 50, "damaged"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, ".xls"),
])
def test_unreadable_files_are_refused_with_a_clear_message(admin_user, content, message):
    with pytest.raises(FieldError) as err:
        imports.import_job_create(actor=admin_user, upload=SimpleUploadedFile("x.csv", content))
    assert message in err.value.errors[0]["reason"] and err.value.errors[0]["reason"].startswith("x.csv: ")
    assert not ImportJob.objects.exists()


def test_a_file_without_a_header_fails_its_inspection_with_the_reason(admin_user):
    # given a file the upload cannot judge without reading it
    job = imports.import_job_create(actor=admin_user, upload=SimpleUploadedFile("x.csv", b"\r\n\r\n;;\r\n"))
    assert imports.import_job_inspecting(job) and not imports.import_job_editable(job)
    # when the worker reads it
    job = imports.import_job_inspect(job_id=job.pk)
    # then the job failed, naming the file and the reason
    assert job.status == "failed" and not imports.import_job_editable(job)
    assert job.errors[0]["field"] == "file" and job.errors[0]["reason"].startswith("x.csv: ")
    assert "no header" in job.errors[0]["reason"]


def test_a_file_damaged_part_way_writes_nothing(admin_user):
    # given a file that reads as UTF-8 at the start but breaks after the first 64 KB
    good = "".join(f"Клиент{i};+7 916 {i:07d}\r\n" for i in range(3000)).encode()
    upload = SimpleUploadedFile("x.csv", "Имя;Телефон\r\n".encode() + good + "Сломан;1\r\n".encode("cp1251"))
    job = create(actor=admin_user, upload=upload)
    # when run
    job = imports.import_job_run(job_id=job.pk)
    # then the job failed with the reason and not one card was written
    assert job.status == "failed"
    assert "encoding" in job.errors[0]["reason"]
    assert Contact.objects.count() == 0


def test_a_job_runs_once(admin_user):
    job = run(admin_user, csv_file([HEADER, ["Орлов", "Олег", "", "+7 916 000-11-22", "", "", ""]]))
    again = imports.import_job_run(job_id=job.pk)
    assert (again.status, again.created_count, Contact.objects.count()) == ("done", 1, 1)


def test_invalid_mapping_names_the_column(admin_user):
    job = create(actor=admin_user, upload=csv_file([HEADER]),
                 mapping={"Телефон": "phones", "Нет такой": "city", "0": "shoe_size"})
    assert job.status == "failed"
    assert {e["field"] for e in job.errors} == {"mapping.Нет такой", "mapping.0"}
