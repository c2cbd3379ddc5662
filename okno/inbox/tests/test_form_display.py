"""A web form's submission on the card: the form's fields with labels, the page once, UTM in one line."""

import re

import pytest
from django.test import Client
from playwright.sync_api import expect

from okno.contacts.models import Contact
from okno.inbox.drain import inbound_drain
from okno.inbox.tests.factories import make_channel
from okno.people.tests.factories import UserFactory

PAGE = "https://shop.example.ru/tariffs?x=1"


def _card(manager, lang: str) -> str:
    client = Client(HTTP_ACCEPT_LANGUAGE=lang)
    client.force_login(manager)
    contact = Contact.objects.get()
    return client.get(f"/contacts/{contact.pk}/").content.decode()


def _submit(client, **fields) -> None:
    channel = make_channel(name="Сайт", fallback_user=UserFactory(username="fallback"))
    assert client.post(channel.webhook_path, fields).status_code == 200
    inbound_drain()


def _form_block(page: str) -> str:
    start = page.index('class="conv conv-form"')
    return page[start:page.index("</li>", start)]  # the form's timeline entry


def test_a_submission_shows_labelled_fields_the_page_once_and_utm_grouped(db, client):
    # given a site's form with its own input names, UTM tags, the page and bookkeeping fields
    _submit(client, name="Ольга Петрова", phone="+7 916 123-45-67", email="olga@example.ru",
            company="ООО Ромашка", comment="Нужен счёт\nна 10 лицензий", company_size="50",
            utm_source="yandex", utm_medium="cpc", utm_campaign="spring", page=PAGE, formid="form42", website="")
    manager = UserFactory(is_superuser=True, role="admin")

    # when an English-speaking manager opens the card
    form = _form_block(_card(manager, "en"))

    # then known fields carry our labels, in a form's order; others keep their own name
    labels = re.findall(r"<dt>([^<]+)</dt>", form)
    assert labels == ["Name", "Phone", "E-mail", "Company", "Message", "company_size"]
    assert "<dt>Message</dt><dd>Нужен счёт<br>на 10 лицензий</dd>" in form
    # the page once, as a link; UTM tags in one line, in their usual order
    assert form.count("shop.example.ru/tariffs") == 2  # the link's href and its text, one line
    assert f'<a href="{PAGE}"'.replace("&", "&amp;") in form
    utm = re.search(r'class="small muted form-utm">(.*?)</div>', form).group(1)
    assert re.sub(r"<[^>]+>", "", utm) == "UTM: source yandex · medium cpc · campaign spring"
    # no raw dump: neither the utm_* names, nor the page field, nor our bookkeeping
    for raw in ("utm_source", "<dt>page</dt>", "formid", "form42", "website"):
        assert raw not in form


def test_labels_are_translated_and_a_script_page_is_no_link(db, client):
    # given a submission whose "page" is a javascript: URL
    _submit(client, name="Ольга", phone="+7 916 123-45-67", page="javascript:alert(1)")
    manager = UserFactory(is_superuser=True, role="admin")

    # when a Russian-speaking manager opens the card
    form = _form_block(_card(manager, "ru"))

    # then
    assert re.findall(r"<dt>([^<]+)</dt>", form) == ["Имя", "Телефон"]
    assert "Страница: javascript:alert(1)" in form and "<a href=\"javascript" not in form
    assert "form-utm" not in form


@pytest.mark.browser
def test_browser_the_card_shows_the_form_as_a_form(logged_in_page, client):
    # given a submission with UTM tags and its page, and an English-speaking administrator
    _submit(client, name="Ольга Петрова", phone="+7 916 123-45-67", comment="Нужен счёт",
            utm_source="yandex", utm_medium="cpc", page=PAGE)
    admin = UserFactory(is_superuser=True, role="admin", language="en")
    page = logged_in_page(admin)

    # when the card is open in a browser
    page.goto(f"/contacts/{Contact.objects.get().pk}/")

    # then the form reads as labelled fields, one page link and one UTM line
    form = page.locator(".conv-form")
    expect(form.locator("dl.form-submission dt")).to_have_text(["Name", "Phone", "Message"])
    expect(form.locator("dl.form-submission dd").first).to_have_text("Ольга Петрова")
    expect(form.locator(".form-page a")).to_have_attribute("href", PAGE)
    expect(form.get_by_text("shop.example.ru/tariffs")).to_have_count(1)
    expect(form.locator(".form-utm")).to_have_text("UTM: source yandex · medium cpc")
