"""document_send: an outbox e-mail with the PDF and DOCX attached, sent by the outbox's drain."""

from django.core import mail

from okno.contacts.tests.factories import make_contact
from okno.documents.services import document_generate, document_send
from okno.documents.tests.factories import make_deal_with_lines, make_template
from okno.outbox.drain import outbox_drain
from okno.outbox.models import OutboxMessage


def test_a_sent_document_is_attached_to_the_email(api, admin_user, fake_pdf, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    # given a generated invoice of a customer with an e-mail
    contact = make_contact(first_name="Иван", emails=["ivan@example.ru"])
    deal = make_deal_with_lines(contact=contact)
    document = document_generate(deal=deal, template=make_template(user=admin_user), user=admin_user)
    # when it is sent through the API without an address
    r = api.post(f"/api/v1/documents/{document.pk}/send", {})
    # then an outbox e-mail to the customer carries both files, and the drain sends them
    assert r.status_code == 202, r.content
    assert r.json()["sent_to"] == "ivan@example.ru"
    row = OutboxMessage.objects.get()
    assert [a["filename"] for a in row.payload["attachments"]] == [f"invoice-{document.year}-1.pdf",
                                                                  f"invoice-{document.year}-1.docx"]
    outbox_drain()
    assert len(mail.outbox) == 1
    assert [a[0] for a in mail.outbox[0].attachments] == [a["filename"] for a in row.payload["attachments"]]
    assert mail.outbox[0].to == ["ivan@example.ru"]


def test_sending_twice_queues_one_email(admin_user, fake_pdf):
    deal = make_deal_with_lines()
    document = document_generate(deal=deal, template=make_template(user=admin_user), user=admin_user)
    document_send(document=document, to="a@example.ru", user=admin_user)
    document_send(document=document, to="a@example.ru", user=admin_user)
    assert OutboxMessage.objects.count() == 1


def test_no_address_is_refused_naming_the_field(api, admin_user, fake_pdf):
    deal = make_deal_with_lines()
    document = document_generate(deal=deal, template=make_template(user=admin_user), user=admin_user)
    r = api.post(f"/api/v1/documents/{document.pk}/send", {})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "to"
    r = api.post(f"/api/v1/documents/{document.pk}/send", {"to": "not-an-address"})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "to"
    assert not OutboxMessage.objects.exists()
