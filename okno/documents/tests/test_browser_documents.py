"""Documents in a real browser: the robot form's document fields show for their actions only, and
the deal panel draws a refused "Send" with its reason (htmx swaps no 4xx by default)."""

import pytest
from playwright.sync_api import expect

from okno.contacts.tests.factories import make_contact
from okno.deals.models import Stage
from okno.documents.models import Document
from okno.documents.tests.factories import make_deal_with_lines, make_template
from okno.people.models import User
from okno.people.tests.factories import UserFactory
from okno.robots.models import Robot

pytestmark = pytest.mark.browser
# The shared machine runs several sessions: a page may take longer than the usual 10 s to load.
SLOW_MS = 60_000


def test_the_robot_form_shows_the_document_fields_and_saves_them(logged_in_page):
    # given an administrator, a stage and an invoice template
    admin = UserFactory(role=User.Role.ADMIN, language="en")
    template = make_template(user=admin, name="Invoice")
    deal = make_deal_with_lines()
    confirmed = Stage.objects.get(pipeline=deal.pipeline, name="Подтверждён")
    page = logged_in_page(admin)
    page.set_default_timeout(SLOW_MS)
    page.goto(f"/robots/new/?stage={confirmed.pk}&kind=action")
    expect(page.locator("#id_document_template")).to_be_hidden()
    # when "generate a document" is chosen: the template shows, the e-mail's fields do not
    page.select_option("#id_action", "generate_document")
    expect(page.locator("#id_document_template")).to_be_visible()
    expect(page.locator("#id_document_to")).to_be_hidden()
    # and "send it by e-mail": all three show, labelled
    page.select_option("#id_action", "send_document")
    expect(page.locator("#id_document_message_template")).to_be_visible()
    expect(page.locator("#id_document_to")).to_be_visible()
    expect(page.locator("label[for=id_document_template]")).to_have_text("Document template:")
    page.select_option("#id_document_template", str(template.pk))
    page.fill("#id_document_to", "orders@example.ru")
    page.click("button[type=submit].btn-primary")
    # then the robot is saved with those parameters
    expect(page.locator("#robot-board")).to_be_visible()
    robot = Robot.objects.get()
    assert robot.action == "send_document"
    assert robot.action_params == {"template_id": template.pk, "to": "orders@example.ru"}


def test_a_refused_send_is_drawn_in_the_panel(logged_in_page, fake_pdf):
    # given a deal of a customer with no e-mail, and an invoice template
    admin = UserFactory(role=User.Role.ADMIN, language="en")
    make_template(user=admin, name="Invoice")
    deal = make_deal_with_lines(contact=make_contact(first_name="Ivan", phones=["+79161234567"]),
                                responsible=admin)
    page = logged_in_page(admin)
    page.set_default_timeout(SLOW_MS)
    page.goto(f"/deals/{deal.pk}/")
    panel = page.locator("#deal-documents")
    expect(panel.locator("#doc-template")).to_be_visible()
    # when "Send" is clicked with the address left empty
    panel.locator("button[value=send]").click()
    # then the panel says the invoice was made and why it was not sent
    expect(panel.locator(".alert-error")).to_contain_text("made, not sent: there is no e-mail address to send it to")
    expect(panel.locator("ul.documents")).to_contain_text("№ 1")
    assert Document.objects.get().sent_at is None
