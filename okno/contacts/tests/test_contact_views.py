"""The contact pages through Django's test client: list, card, forms, notes, duplicates, delete."""

import pytest

from okno.contacts.models import Contact, CustomField, FieldChange
from okno.contacts.tests.factories import make_contact
from okno.people.models import User
from okno.people.tests.factories import DepartmentFactory, UserFactory
from okno.timeline.models import Activity

HTMX = {"HX-Request": "true"}


@pytest.fixture
def manager(db):
    return UserFactory(language="en")


@pytest.fixture
def as_manager(client, manager):
    client.force_login(manager)
    return client


def test_list_searches_by_phone_in_any_format_and_answers_htmx_with_rows_only(as_manager, manager):
    # given two customers of the manager
    make_contact(actor=manager, first_name="Пётр", last_name="Алексеев", phones=["+7 916 123-45-67"])
    make_contact(actor=manager, first_name="Иван", last_name="Иванов", phones=["+7 903 000-00-01"])
    # when the search box gets the phone in another format, as htmx live search sends it
    r = as_manager.get("/contacts/", {"q": "8 (916) 123-45-67"}, headers={**HTMX, "HX-Target": "contact-results"})
    # then only the matching row comes back, without the page around it
    html = r.content.decode()
    assert r.status_code == 200
    assert "Алексеев Пётр" in html and "Иванов" not in html
    assert "<html" not in html
    # and the full page has the search box
    page = as_manager.get("/contacts/", {"q": "иванов"}).content.decode()
    assert 'name="q"' in page and "Иванов Иван" in page and "Алексеев" not in page


def test_list_filters_by_tag_and_responsible_and_pages(as_manager, manager):
    # given 55 contacts, one of them tagged
    for i in range(55):
        make_contact(actor=manager, first_name=f"Имя{i:02d}", last_name="Клиентов")
    make_contact(actor=manager, first_name="Вип", last_name="Клиентов", tags=["vip"])
    # when filtering by tag
    tagged = as_manager.get("/contacts/", {"tag": "vip"}).content.decode()
    # then only the tagged one is listed
    assert "Клиентов Вип" in tagged and "Имя00" not in tagged
    # and without filters the second page holds the rest
    second = as_manager.get("/contacts/", {"page": 2, "responsible": manager.pk}).content.decode()
    assert "Page 2 of 2" in second
    assert second.count('href="/contacts/') - second.count('href="/contacts/new/') >= 6


def test_card_shows_formatted_phones_custom_fields_and_history(as_manager, manager):
    # given a card with a custom field that was then edited
    CustomField.objects.create(key="budget", label="Budget", type="number")
    c = make_contact(actor=manager, phones=["89161234567"], emails=["i@example.com"], city="Москва",
                     custom={"budget": "1500"}, tags=["vip"])
    as_manager.post(f"/contacts/{c.pk}/edit/", _form(c, city="Тверь"))
    # when the card and its history tab are opened
    card = as_manager.get(f"/contacts/{c.pk}/").content.decode()
    history = as_manager.get(f"/contacts/{c.pk}/", {"tab": "history"}, headers={**HTMX, "HX-Target": "card-tab"})
    # then phones are formatted with tel: links, and the history names who changed what
    assert 'href="tel:+79161234567"' in card and "+7 916 123-45-67" in card
    assert "Budget" in card and "1500" in card and "i@example.com" in card
    html = history.content.decode()
    assert "Москва" in html and "Тверь" in html and manager.display_name in html
    assert "<html" not in html


def _form(contact: Contact | None = None, **over) -> dict:
    data = {"first_name": "", "last_name": "", "middle_name": "", "company": "", "city": "", "source": "",
            "tags": "", "responsible_id": "", "phones": [], "phone_kinds": [], "emails": []}
    if contact is not None:
        data.update(first_name=contact.first_name, last_name=contact.last_name, city=contact.city,
                    responsible_id=str(contact.responsible_id or ""),
                    phones=[p.display for p in contact.phones.all()],
                    phone_kinds=[p.kind for p in contact.phones.all()],
                    emails=[e.email for e in contact.emails.all()])
    data.update(over)
    return data


def test_create_with_bad_values_shows_each_error_beside_its_field(as_manager):
    # given a number custom field
    CustomField.objects.create(key="budget", label="Budget", type="number")
    # when the form comes with a bad second phone, a bad e-mail and a bad number
    r = as_manager.post("/contacts/new/", _form(
        first_name="Анна", phones=["+7 916 123-45-67", "12"], phone_kinds=["mobile", "work"],
        emails=["nope"], **{"custom.budget": "много"}))
    # then nothing is saved and each reason stands right after its own input
    assert r.status_code == 400
    assert Contact.objects.count() == 0
    html = r.content.decode()
    between_phones = html.split('value="+7 916 123-45-67"')[1].split('value="12"')[0]
    assert "field-error" not in between_phones  # the good phone has no error under it
    assert "is not a valid phone number" in html.split('value="12"')[1].split('name="emails"')[0]
    assert "must be a number" in html.split('name="custom.budget"')[1].split("</div>")[0]
    assert 'value="+7 916 123-45-67"' in html  # what was typed is kept
    assert "field-error" in html.split('value="nope"')[1].split("</p>")[0]


def test_create_saves_the_card_for_the_manager(as_manager, manager):
    # when a manager submits a valid form
    r = as_manager.post("/contacts/new/", _form(
        first_name="Анна", last_name="Кузнецова", phones=["8 (916) 123-45-67", ""], phone_kinds=["work", "mobile"],
        emails=["Anna@Example.com"], company="ООО Ромашка", tags="vip, опт"))
    # then the card exists, normalised, and the browser goes to it
    c = Contact.objects.get()
    assert r.status_code == 302 and r.url == f"/contacts/{c.pk}/"
    assert (c.first_name, c.company.name, c.responsible_id) == ("Анна", "ООО Ромашка", manager.pk)
    assert list(c.phones.values_list("e164", "kind")) == [("+79161234567", "work")]
    assert list(c.emails.values_list("email", flat=True)) == ["anna@example.com"]
    assert sorted(c.tags.values_list("name", flat=True)) == ["vip", "опт"]


def test_create_with_nothing_says_what_a_card_needs(as_manager):
    r = as_manager.post("/contacts/new/", _form())
    assert r.status_code == 400
    assert "a contact needs a name, a phone or an e-mail" in r.content.decode()
    assert Contact.objects.count() == 0


def test_edit_records_field_history_and_keeps_a_colleagues_responsible(client, manager):
    # given a card whose responsible is the manager's colleague
    colleague = UserFactory(department=manager.department)
    c = make_contact(actor=colleague, city="Москва", phones=["+7 916 123-45-67"])
    client.force_login(manager)
    # when the manager changes the city and adds an e-mail without touching the responsible
    r = client.post(f"/contacts/{c.pk}/edit/", _form(c, city="Тверь", emails=["new@example.com"]))
    # then the card changed, the history has both changes by the manager, the responsible stays
    assert r.status_code == 302, r.content.decode()[:2000]
    c.refresh_from_db()
    assert c.city == "Тверь" and c.responsible_id == colleague.pk
    city = FieldChange.objects.get(contact=c, field="city")
    assert (city.old, city.new, city.user_id) == ("Москва", "Тверь", manager.pk)
    assert FieldChange.objects.get(contact=c, field="emails").new == "new@example.com"
    assert not FieldChange.objects.filter(contact=c, field="phones").exists()


def test_add_note_with_htmx_returns_the_timeline(as_manager, manager):
    c = make_contact(actor=manager)
    # when a note is added through htmx
    r = as_manager.post(f"/contacts/{c.pk}/notes/", {"body": "Перезвонить в пятницу"}, headers=HTMX)
    # then the note is in the timeline fragment and in the database
    assert r.status_code == 200
    assert "Перезвонить в пятницу" in r.content.decode()
    assert Activity.objects.get(contact=c, kind="note").author_id == manager.pk
    # and an empty note is refused with the reason, adding nothing
    empty = as_manager.post(f"/contacts/{c.pk}/notes/", {"body": "  "}, headers=HTMX)
    assert "a note cannot be empty" in empty.content.decode()
    assert Activity.objects.filter(contact=c).count() == 1


def test_duplicate_fragment_names_visible_matches_only(as_manager, manager):
    # given a visible customer and another department's customer with the same phone
    mine = make_contact(actor=manager, first_name="Иван", last_name="Петров", phones=["+7 916 123-45-67"])
    stranger = UserFactory(department=DepartmentFactory())
    make_contact(actor=stranger, first_name="Секрет", last_name="Чужой", phones=["+7 916 123-45-67"])
    # when the form sends a half-typed card with the phone in another format
    r = as_manager.post("/contacts/new/check-duplicates/", _form(first_name="Ваня", phones=["8 (916) 123-45-67"]),
                        headers=HTMX)
    # then the warning links the visible card with the reason, and the other department's card is not named
    html = r.content.decode()
    assert f'href="/contacts/{mine.pk}/"' in html
    assert "Петров Иван" in html and "same phone +7 916 123-45-67" in html
    assert "Чужой" not in html
    # and a phone still being typed gives no warning and no error
    partial = as_manager.post("/contacts/new/check-duplicates/", _form(phones=["8 (916"]), headers=HTMX)
    assert partial.status_code == 200 and "may already exist" not in partial.content.decode()


def test_another_departments_card_is_404_everywhere(as_manager):
    stranger = UserFactory(department=DepartmentFactory())
    c = make_contact(actor=stranger)
    for path in (f"/contacts/{c.pk}/", f"/contacts/{c.pk}/edit/", f"/contacts/{c.pk}/delete/"):
        assert as_manager.get(path).status_code == 404, path
    assert as_manager.post(f"/contacts/{c.pk}/notes/", {"body": "x"}).status_code == 404
    assert not Activity.objects.filter(contact=c).exists()


def test_delete_asks_then_hides_the_card(as_manager, manager):
    c = make_contact(actor=manager, first_name="Удаляемый")
    assert "Удаляемый" in as_manager.get(f"/contacts/{c.pk}/delete/").content.decode()
    r = as_manager.post(f"/contacts/{c.pk}/delete/")
    assert r.status_code == 302
    c.refresh_from_db()
    assert c.status == Contact.Status.DELETED
    assert as_manager.get(f"/contacts/{c.pk}/").status_code == 404
    assert f'href="/contacts/{c.pk}/"' not in as_manager.get("/contacts/").content.decode()


def test_anonymous_is_sent_to_login(client, db):
    r = client.get("/contacts/")
    assert r.status_code == 302 and r.url.startswith("/login/")


def test_custom_fields_admin_creates_typed_fields_and_others_get_403(client, manager):
    admin = UserFactory(role=User.Role.ADMIN, department=None, language="en")
    client.force_login(manager)
    assert client.get("/contacts/custom-fields/").status_code == 403
    assert client.post("/contacts/custom-fields/new/", {"key": "x", "label": "X", "type": "text"}).status_code == 403
    client.force_login(admin)
    bad = client.post("/contacts/custom-fields/new/", {"key": "segment", "label": "Segment", "type": "choice",
                                                        "choices": ""})
    assert bad.status_code == 400 and "a choice field needs at least one choice" in bad.content.decode()
    ok = client.post("/contacts/custom-fields/new/", {"key": "segment", "label": "Segment", "type": "choice",
                                                       "choices": "A\nB\n\nA"})
    assert ok.status_code == 302
    field = CustomField.objects.get(key="segment")
    assert field.choices == ["A", "B"]
    taken = client.post("/contacts/custom-fields/new/", {"key": "segment", "label": "S2", "type": "text"})
    assert "this key is taken" in taken.content.decode()
    client.post(f"/contacts/custom-fields/{field.pk}/", {"label": "Сегмент", "type": "choice", "choices": "A\nB\nC"})
    field.refresh_from_db()
    assert (field.key, field.label, field.choices) == ("segment", "Сегмент", ["A", "B", "C"])
    # and the new-contact form offers it
    assert 'name="custom.segment"' in client.get("/contacts/new/").content.decode()


def test_duplicate_warning_speaks_the_users_language(client, manager):
    make_contact(actor=manager, first_name="Иван", last_name="Петров", phones=["+7 916 123-45-67"])
    manager.language = "ru"
    manager.save()
    client.force_login(manager)
    html = client.post("/contacts/new/check-duplicates/", _form(phones=["89161234567"]), headers=HTMX).content.decode()
    assert "Возможно, этот клиент уже есть" in html and "тот же телефон +7 916 123-45-67" in html


def test_create_saves_messenger_rows_and_skips_the_empty_one(as_manager):
    # when the form comes with a Telegram handle, a WhatsApp number and an empty third row
    r = as_manager.post("/contacts/new/", _form(
        first_name="Анна", handles_shown="1", handles=[" @anna ", "+79161234567", ""],
        handle_kinds=["telegram", "whatsapp", "viber"]))
    # then the card has exactly the two filled handles, trimmed, in order
    c = Contact.objects.get()
    assert r.status_code == 302 and r.url == f"/contacts/{c.pk}/"
    assert list(c.handles.values_list("kind", "handle")) == [("telegram", "@anna"), ("whatsapp", "+79161234567")]
    # and the card shows them
    card = as_manager.get(r.url).content.decode()
    assert '<span class="kind">Telegram</span> @anna' in card
    assert '<span class="kind">WhatsApp</span> +79161234567' in card


def test_bad_messenger_rows_show_their_errors_beside_each_row(as_manager):
    # when the second row has a kind the form never offers and the third a handle too long
    r = as_manager.post("/contacts/new/", _form(
        first_name="Анна", handles_shown="1", handles=["@good", "@bad_kind", "x" * 300],
        handle_kinds=["telegram", "icq", "vk"]))
    # then nothing is saved, and each reason stands right after its own row, the good row has none
    assert r.status_code == 400
    assert Contact.objects.count() == 0
    html = r.content.decode()
    assert "field-error" not in html.split('value="@good"')[1].split('value="@bad_kind"')[0]
    assert "must be one of: telegram" in html.split('value="@bad_kind"')[1].split('value="' + "x" * 300)[0]
    assert "must be 1 to 255 characters" in html.split('value="' + "x" * 300)[1].split("</p>")[0]
    # and the unknown kind typed in is kept selected, so the person sees what was wrong
    assert '<option value="icq" selected>icq</option>' in html


def test_messenger_error_speaks_russian(client, manager):
    manager.language = "ru"
    manager.save()
    client.force_login(manager)
    r = client.post("/contacts/new/", _form(first_name="Анна", handles_shown="1", handles=["x" * 300],
                                            handle_kinds=["telegram"]))
    assert r.status_code == 400
    assert "от 1 до 255 символов" in r.content.decode()


def test_edit_form_shows_handles_and_removing_every_row_removes_them(as_manager, manager):
    # given a card with two handles
    c = make_contact(actor=manager, handles=[{"kind": "telegram", "handle": "@ivan"},
                                             {"kind": "vk", "handle": "id42"}])
    # when the edit form is opened, it shows them with their kinds selected
    html = as_manager.get(f"/contacts/{c.pk}/edit/").content.decode()
    first_row = html.split('id="handle-rows"')[1].split('value="@ivan"')[0]
    assert '<option value="telegram" selected>Telegram</option>' in first_row
    assert '<option value="vk" selected>VK</option>' in html.split('value="@ivan"')[1].split('value="id42"')[0]
    # when the form is saved with the section shown but every row removed
    r = as_manager.post(f"/contacts/{c.pk}/edit/", _form(c, handles_shown="1"))
    # then the handles are gone, and the history says what they were
    assert r.status_code == 302
    assert not c.handles.exists()
    change = FieldChange.objects.get(contact=c, field="handles")
    assert (change.old, change.new, change.user_id) == ("telegram:@ivan, vk:id42", "", manager.pk)


def test_edit_changes_a_handle_and_a_post_without_the_section_leaves_handles_alone(as_manager, manager):
    c = make_contact(actor=manager, handles=[{"kind": "telegram", "handle": "@ivan"}])
    # when a form without the messenger section (an older page) changes the city
    as_manager.post(f"/contacts/{c.pk}/edit/", _form(c, city="Тверь"))
    # then the handle stays and no handle history is written
    assert list(c.handles.values_list("kind", "handle")) == [("telegram", "@ivan")]
    assert not FieldChange.objects.filter(contact=c, field="handles").exists()
    # when the form with the section changes the kind and the handle
    r = as_manager.post(f"/contacts/{c.pk}/edit/", _form(c, handles_shown="1", handles=["@ivan_p"],
                                                         handle_kinds=["max"]))
    assert r.status_code == 302
    assert list(c.handles.values_list("kind", "handle")) == [("max", "@ivan_p")]
    assert FieldChange.objects.get(contact=c, field="handles").new == "max:@ivan_p"
