"""Message templates: the documented fields only, sandboxed, refused with the field when they do not render."""

from decimal import Decimal
from types import SimpleNamespace

import pytest

from okno.contacts.tests.factories import make_contact
from okno.core.errors import FieldError
from okno.outbox.models import MessageTemplate
from okno.outbox.templating import template_context, template_render
from okno.people.models import User
from okno.people.tests.factories import UserFactory


def _deal(**over):
    user = SimpleNamespace(display_name="Анна Менеджерова", password="pbkdf2$secret", is_admin=True)
    fields = {"pk": 12, "title": "Заказ 12", "amount": Decimal("1990.00"), "currency": "RUB",
              "stage": SimpleNamespace(name="Новый"), "pipeline": SimpleNamespace(name="Заказы"),
              "responsible": user, "external_id": "A-12", "custom": {"track": "RU123"}, "contact": None,
              "company": None}
    fields.update(over)
    return SimpleNamespace(**fields)


def test_a_template_renders_the_deals_contacts_and_companys_fields(db):
    contact = make_contact(first_name="Иван", last_name="Петров", phones=["+79161234567"], emails=["i@example.ru"],
                           company="Ромашка")
    context = template_context(deal=_deal(contact=contact))
    subject, body = template_render(template=MessageTemplate(channel="sms", body=(
        "{{ contact.first_name }}, заказ №{{ deal.number }} ({{ deal.stage }}) на {{ deal.amount|floatformat:2 }} "
        "{{ deal.currency }}; трек {{ deal.custom.track }}; {{ deal.responsible }}, {{ company.name }}, "
        "{{ contact.phone }} {{ contact.email }}")), context=context)
    assert body == ("Иван, заказ №12 (Новый) на 1990,00 RUB; трек RU123; Анна Менеджерова, Ромашка, "
                    "+79161234567 i@example.ru")


def test_nothing_beyond_the_documented_fields_is_reachable(db):
    context = template_context(deal=_deal())
    for source in ("{{ deal.responsible.password }}", "{{ deal.responsible.is_admin }}", "{{ deal.clear }}",
                   "{{ deal.pop }}", "{{ deal.stage.name }}"):
        assert template_render(template={"channel": "sms", "body": source}, context=context)[1] == "", source
    assert template_render(template={"channel": "sms", "body": "{{ deal.title }}"}, context=context)[1] == "Заказ 12"


@pytest.mark.parametrize("source", [
    "{% load static %}", "{% debug %}", "{% include 'base.html' %}", "{{ deal.__class__ }}", "{% if %}",
    "{{ deal.title|center:100000000 }}", "{% url 'login' %}",
    "{% for a in s %}{% for b in s %}{% for c in s %}x{% endfor %}{% endfor %}{% endfor %}",
])
def test_a_template_that_does_not_render_names_the_body(source):
    with pytest.raises(FieldError) as e:
        template_render(template={"channel": "email", "subject": "ok", "body": source}, context={"s": "a" * 100})
    assert list(e.value.by_field) == ["body"]


def test_html_is_not_escaped_in_plain_text(db):
    body = template_render(template={"channel": "email", "subject": "s", "body": "{{ deal.title }}"},
                           context=template_context(deal=_deal(title="Tom & Jerry <3")))[1]
    assert body == "Tom & Jerry <3"


def test_templates_api_crud_and_preview(api, api_as):
    r = api.post("/api/v1/message-templates", {
        "name": "Заказ принят", "channel": "email", "subject": "Заказ {{ deal.number }}",
        "body": "Здравствуйте, {{ contact.first_name }}!"})
    assert r.status_code == 201, r.content
    tid = r.json()["id"]
    r = api.post("/api/v1/message-templates", {"name": "Сломанный", "channel": "sms", "body": "{% for %}"})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "body"
    r = api.post(f"/api/v1/message-templates/{tid}/preview", {"context": {"deal": {"number": 5},
                                                                          "contact": {"first_name": "Ольга"}}})
    assert r.json() == {"subject": "Заказ 5", "body": "Здравствуйте, Ольга!"}
    r = api.post("/api/v1/message-templates/preview", {"channel": "sms", "body": "{{ contact.first_name }}"})
    assert r.status_code == 200 and r.json()["body"] == "Иван"  # the sample values
    r = api.post("/api/v1/message-templates/preview", {"channel": "sms", "body": "{{ x|date:'Y' }} {% endif %}"})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "body"
    assert api.patch(f"/api/v1/message-templates/{tid}", {"body": "Привет"}).json()["body"] == "Привет"
    manager = UserFactory(role=User.Role.MANAGER)
    assert api_as(manager).patch(f"/api/v1/message-templates/{tid}", {"body": "x"}).status_code == 403
    assert api_as(manager).get("/api/v1/message-templates").status_code == 200
    assert api.delete(f"/api/v1/message-templates/{tid}").status_code == 204
    assert not MessageTemplate.objects.exists()


def test_a_template_is_queued_on_its_channel(db):
    from okno.outbox.services import outbox_from_template

    sms = MessageTemplate(name="t", channel="sms", body="{{ contact.first_name }}, заказ {{ deal.number }} принят")
    message = outbox_from_template(template=sms, context=template_context(deal=_deal(), contact={"first_name": "Ива"}),
                                   to="+79161234567", key="robot-1-deal-12")
    assert message.kind == "sms" and message.payload == {"to": "+79161234567", "text": "Ива, заказ 12 принят"}
    email = MessageTemplate(name="e", channel="email", subject="Заказ {{ deal.number }}", body="{{ deal.title }}")
    message = outbox_from_template(template=email, context=template_context(deal=_deal()), to="a@example.ru",
                                   key="robot-2-deal-12")
    assert message.payload == {"to": "a@example.ru", "subject": "Заказ 12", "body": "Заказ 12"}


def test_preview_with_a_real_deal_the_user_may_see(api, api_as):
    from okno.deals.tests.factories import DealFactory

    contact = make_contact(first_name="Ольга", last_name="Смирнова", phones=["+79161234567"])
    deal = DealFactory(title="Заказ 77", contact=contact, amount=Decimal("990.50"))
    body = ("{{ contact.first_name }}: {{ deal.title }}, {{ deal.stage }}, {{ deal.amount|floatformat:2 }} "
            "{{ deal.currency }}")
    r = api.post("/api/v1/message-templates/preview", {"channel": "sms", "body": body, "deal_id": deal.pk})
    assert r.status_code == 200, r.content
    assert r.json()["body"] == f"Ольга: Заказ 77, {deal.stage.name}, 990,50 RUB"
    # a deal the user may not see is no deal to them
    stranger = UserFactory(role=User.Role.MANAGER)
    r = api_as(stranger).post("/api/v1/message-templates/preview", {"channel": "sms", "body": body,
                                                                    "deal_id": deal.pk})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "deal_id"
