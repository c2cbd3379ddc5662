"""Files a customer sent: listed under the message on the card, downloaded through the visibility rule."""

from urllib.parse import quote

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client

from okno.contacts.models import Contact
from okno.contacts.services import contact_delete
from okno.inbox.drain import inbound_drain
from okno.inbox.models import InboundEvent, Message
from okno.inbox.tests.factories import make_channel
from okno.inbox.tests.mailservers import mail
from okno.people.tests.factories import DepartmentFactory, UserFactory

PDF = b"%PDF-1.4 price list\n" + bytes(range(256))
PDF_NAME = "прайс 2025.pdf"


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def body(response) -> bytes:
    return b"".join(response.streaming_content)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def sales(db):
    return DepartmentFactory(name="Продажи")


@pytest.fixture
def letter(sales):
    """A customer's letter to the sales mailbox with a price list and a page of HTML, recorded by the worker."""
    UserFactory(department=sales)  # at work: is given the lead and becomes the card's responsible
    channel = make_channel(kind="email", name="Почта", department=sales, settings={"imap_user": "sales@okno.test"})
    raw = mail(attachments=[(PDF_NAME, "application/pdf", PDF),
                            ("page.html", "text/html", b"<script>alert(document.cookie)</script>")])
    InboundEvent.objects.create(channel=channel, body=raw, content_type="message/rfc822", event_type="email")
    inbound_drain()
    return Message.objects.select_related("conversation__contact").get()


def url(message: Message, index: int) -> str:
    return f"/inbox/messages/{message.pk}/files/{index}/"


def test_a_colleague_sees_the_attachment_on_the_card_and_downloads_the_same_bytes(sales, letter):
    # given a manager of the department that owns the card
    colleague = logged_in(UserFactory(department=sales))
    # when they open the card
    card = colleague.get(f"/contacts/{letter.conversation.contact_id}/").content.decode()
    # then the message lists the file with its size and a download link
    assert f'href="{url(letter, 0)}"' in card and PDF_NAME in card
    assert "276\xa0байт" in card
    # and the link gives the very bytes the customer sent, as a download
    r = colleague.get(url(letter, 0))
    assert r.status_code == 200 and body(r) == PDF
    assert r["Content-Type"] == "application/pdf"
    assert r["Content-Disposition"] == f"attachment; filename=\"_____ 2025.pdf\"; filename*=UTF-8''{quote(PDF_NAME)}"
    assert r["X-Content-Type-Options"] == "nosniff"


def test_an_html_attachment_is_a_download_and_never_a_page(sales, letter):
    r = logged_in(UserFactory(department=sales)).get(url(letter, 1))
    assert r.status_code == 200 and body(r) == b"<script>alert(document.cookie)</script>"
    assert r["Content-Disposition"].startswith('attachment; filename="page.html"')
    assert r["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in r["Content-Security-Policy"]


def test_another_department_gets_404_and_anonymous_goes_to_login(sales, letter):
    # given a manager of another department (who may not see the card) and one of the right one
    outsider = logged_in(UserFactory(department=DepartmentFactory(name="Сервис")))
    insider = logged_in(UserFactory(department=sales))
    # then the outsider is told the file does not exist, like the card itself
    assert outsider.get(f"/contacts/{letter.conversation.contact_id}/").status_code == 404
    assert outsider.get(url(letter, 0)).status_code == 404
    assert insider.get(url(letter, 0)).status_code == 200
    # and a visitor who is not logged in is sent to log in
    r = Client().get(url(letter, 0))
    assert r.status_code == 302 and r["Location"].startswith("/login/?next=")


def test_an_index_out_of_range_or_an_unknown_message_is_404(sales, letter):
    insider = logged_in(UserFactory(department=sales))
    assert insider.get(url(letter, 2)).status_code == 404
    assert insider.get(f"/inbox/messages/{letter.pk + 1000}/files/0/").status_code == 404


def test_only_the_channels_own_stored_files_are_served(sales, letter, settings):
    # given a file outside inbox storage and meta pointing at it (a bug or a hand-edited row)
    secret = settings.MEDIA_ROOT / "secret.txt"
    secret.write_bytes(b"not a customer's file")
    other_channel = make_channel(kind="email", name="Другая почта")
    own = letter.meta["attachments"][0]["path"]
    elsewhere = own.replace(f"inbox/email/{letter.conversation.channel_id}/", f"inbox/email/{other_channel.pk}/")
    default_storage.save(elsewhere, ContentFile(b"another channel's file"))
    insider = logged_in(UserFactory(department=sales))
    for path in ("secret.txt", f"inbox/email/{letter.conversation.channel_id}/../../../secret.txt", "/etc/passwd",
                 elsewhere):
        meta = {**letter.meta, "attachments": [{**letter.meta["attachments"][0], "path": path}]}
        Message.objects.filter(pk=letter.pk).update(meta=meta)
        # then nothing is served
        assert insider.get(url(letter, 0)).status_code == 404, path


def test_a_deleted_cards_files_are_404_like_the_card(sales, letter):
    responsible = letter.conversation.contact.responsible
    contact_delete(actor=responsible, contact=letter.conversation.contact)
    assert Contact.objects.get().status == Contact.Status.DELETED
    assert logged_in(responsible).get(url(letter, 0)).status_code == 404
