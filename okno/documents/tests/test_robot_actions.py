"""The robots' "generate a document" and "send it by e-mail" actions: set up in the robot form
with labelled fields, a robot on "Confirmed" makes a supplier order per supplier and e-mails
each, once per run however often the run is executed."""

from django.core import mail

from okno.contacts.tests.factories import make_contact
from okno.deals.deal_services import deal_move_to_stage
from okno.deals.models import Stage
from okno.documents.models import Document, DocumentKind
from okno.documents.robot_actions import SEND, _clean
from okno.documents.tests.factories import make_deal_with_lines, make_supplier, make_template
from okno.outbox.drain import outbox_drain
from okno.outbox.models import MessageTemplate, OutboxMessage
from okno.robots import rule_cache
from okno.robots.drains import robot_run_execute, robot_runs_drain
from okno.robots.models import Robot, RobotRun


def test_a_robot_on_confirmed_sends_supplier_orders(admin_user, fake_pdf):
    # given a robot "on entering Подтверждён: send the supplier order" and an order of two suppliers
    a, b = make_supplier("Альфа", "a@supplier.ru"), make_supplier("Бета", "b@supplier.ru")
    deal = make_deal_with_lines(suppliers=[a, b])
    confirmed = Stage.objects.get(pipeline=deal.pipeline, name="Подтверждён")
    template = make_template(kind=DocumentKind.SUPPLIER_ORDER, user=admin_user)
    Robot.objects.create(pipeline=deal.pipeline, stage=confirmed, kind=Robot.Kind.ACTION,
                         trigger=Robot.Trigger.ENTER, action=SEND, action_params={"template_id": template.pk})
    rule_cache.forget()
    # when the deal enters the stage and its run is executed (twice, as after a lost lease)
    deal_move_to_stage(deal=deal, stage=confirmed, actor=admin_user)
    run = RobotRun.objects.get(deal=deal)
    robot_run_execute(run.pk)
    RobotRun.objects.filter(pk=run.pk).update(status=RobotRun.Status.PENDING)
    robot_run_execute(run.pk)
    # then one order per supplier, each e-mailed once
    assert Document.objects.filter(deal=deal).count() == 2
    assert sorted(m.payload["to"] for m in OutboxMessage.objects.all()) == ["a@supplier.ru", "b@supplier.ru"]


def test_the_parameters_are_checked(admin_user):
    errors: dict = {}
    _clean({"template_id": 999}, errors)
    assert errors == {"action.template_id": "no such document template"}


def test_a_send_robot_is_set_up_in_the_form_and_mails_the_document(client, admin_user, fake_pdf, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    # given an invoice template, an e-mail template, and a deal of a customer with an e-mail
    template = make_template(user=admin_user, name="Счёт покупателю")
    letter = MessageTemplate.objects.create(name="Письмо со счётом", channel="email",
                                            subject="Счёт по заказу {{ deal.title }}", body="Счёт во вложении.")
    deal = make_deal_with_lines(contact=make_contact(first_name="Иван", emails=["ivan@example.ru"]))
    confirmed = Stage.objects.get(pipeline=deal.pipeline, name="Подтверждён")
    admin_user.language = "en"
    admin_user.save(update_fields=["language"])
    client.force_login(admin_user)
    # when the administrator opens the robot form: the actions and their fields are labelled, no JSON
    page = client.get(f"/robots/new/?stage={confirmed.pk}&kind=action").content.decode()
    assert '<option value="send_document">generate a document and send it by e-mail</option>' in page
    assert '<option value="generate_document">generate a document</option>' in page
    assert "Document template" in page and "Счёт покупателю (invoice)" in page
    assert "E-mail template" in page and "Письмо со счётом" in page and "Send to" in page
    assert "<textarea" not in page
    # and saves "on entering Подтверждён: make the invoice and send it with this letter"
    answer = client.post(f"/robots/new/?stage={confirmed.pk}&kind=action", {
        "kind": "action", "name": "Счёт при подтверждении", "is_active": "on", "trigger": "enter",
        "action": "send_document", "document_template": template.pk, "document_message_template": letter.pk,
        "document_to": ""})
    assert answer.status_code == 302, answer.content.decode()[:3000]
    robot = Robot.objects.get()
    assert robot.action == Robot.Action.SEND_DOCUMENT
    assert robot.action_params == {"template_id": template.pk, "message_template_id": letter.pk}
    edit = client.get(f"/robots/{robot.pk}/").content.decode()
    assert 'value="send_document" selected' in edit
    assert f'<option value="{template.pk}" selected>Счёт покупателю (invoice)</option>' in edit
    assert f'<option value="{letter.pk}" selected>Письмо со счётом</option>' in edit
    # and the deal enters the stage, and the robots' and the outbox's drains run
    deal_move_to_stage(deal=deal, stage=confirmed, actor=admin_user)
    robot_runs_drain()
    outbox_drain()
    # then the invoice is made (DOCX and PDF) and e-mailed with both attached, in the letter's words
    document = Document.objects.get(deal=deal)
    assert document.pdf_status == Document.PdfStatus.DONE and document.sent_to == "ivan@example.ru"
    assert RobotRun.objects.get(deal=deal).status == RobotRun.Status.DONE
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["ivan@example.ru"]
    assert mail.outbox[0].subject == f"Счёт по заказу {deal.title}"
    assert [a[0] for a in mail.outbox[0].attachments] == [f"invoice-{document.year}-{document.number}.pdf",
                                                          f"invoice-{document.year}-{document.number}.docx"]


def test_a_generate_robot_from_the_form_makes_the_document_only(client, admin_user, fake_pdf):
    # given a supplier-order template and a deal whose line names a supplier
    template = make_template(kind=DocumentKind.SUPPLIER_ORDER, user=admin_user, name="Заказ поставщику")
    deal = make_deal_with_lines(suppliers=[make_supplier("Альфа", "a@supplier.ru")])
    confirmed = Stage.objects.get(pipeline=deal.pipeline, name="Подтверждён")
    client.force_login(admin_user)
    # when a "generate a document" robot is saved through the form, and the deal enters the stage
    answer = client.post(f"/robots/new/?stage={confirmed.pk}&kind=action", {
        "kind": "action", "is_active": "on", "trigger": "enter", "action": "generate_document",
        "document_template": template.pk, "document_to": "ignored@example.ru"})
    assert answer.status_code == 302, answer.content.decode()[:3000]
    assert Robot.objects.get().action_params == {"template_id": template.pk}
    deal_move_to_stage(deal=deal, stage=confirmed, actor=admin_user)
    robot_runs_drain()
    # then the supplier order is made and kept on the deal, and nothing is e-mailed
    document = Document.objects.get(deal=deal)
    assert document.supplier.name == "Альфа" and document.docx.name
    assert not OutboxMessage.objects.exists()


def test_the_form_names_a_bad_document_parameter_on_its_field(client, admin_user):
    # given a stage and no document template at all
    deal = make_deal_with_lines()
    confirmed = Stage.objects.get(pipeline=deal.pipeline, name="Подтверждён")
    admin_user.language = "en"
    admin_user.save(update_fields=["language"])
    client.force_login(admin_user)
    # when the form is saved without a template and with a bad address
    answer = client.post(f"/robots/new/?stage={confirmed.pk}&kind=action", {
        "kind": "action", "trigger": "enter", "action": "send_document", "document_template": "",
        "document_to": "not-an-address"})
    # then nothing is saved and each field shows its reason
    html = answer.content.decode()
    assert answer.status_code == 200 and not Robot.objects.exists()
    assert "Enter a valid email address." in html
    answer = client.post(f"/robots/new/?stage={confirmed.pk}&kind=action", {
        "kind": "action", "trigger": "enter", "action": "send_document", "document_template": ""})
    html = answer.content.decode()
    assert "no such document template" in html
    assert html.index("no such document template") > html.index('name="document_template"')
