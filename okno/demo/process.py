"""The demo company's process, set up as an administrator would click it: every row through its service.

A business calendar, the lost reasons, message templates, an SMS provider (switched off), a
webhook endpoint (switched off), and two pipelines with the issue's robots:

- «Заказы интернет-магазина»: Новый → Пауза (paused) → Подтверждён → Выполнен (won) / Отменён
  (lost); "delivery date" is required before Подтверждён. On Новый: an SMS to the customer on
  entry and a deadline "processed within PT30M of working time" escalating to the head, with a
  second level (PT1H more) reassigning round robin in Розница. On Пауза: "until the end of the
  working day", escalating by moving the order back to Новый, and a reminder to the responsible
  after PT2H. On Подтверждён: the register "confirmed_orders" and an e-mail to the customer.
- «B2B продажи»: Квалификация → Коммерческое предложение → Переговоры → Успешно / Проиграно,
  with a work item on entering qualification, a follow-up work item two working days after the
  proposal, and deadlines escalating to the head.
- Leads: "taken within PT15M of working time", escalating to the head.
"""

from dataclasses import dataclass, field

from django.conf import settings

from okno.core.calendar_services import calendar_create
from okno.core.models import Calendar
from okno.deals.lead_services import lost_reason_create
from okno.deals.models import LostReason, Pipeline, Stage
from okno.deals.pipeline_services import pipeline_create
from okno.demo import deal_data as dd
from okno.outbox.models import MessageTemplate, SmsProvider, WebhookEndpoint
from okno.outbox.services import (
    message_template_save,
    sms_provider_save,
    webhook_endpoint_create,
    webhook_endpoint_disable,
)
from okno.people.models import Department, User
from okno.robots.models import Robot
from okno.robots.services import robot_create

STORE = "Заказы интернет-магазина"
B2B = "B2B продажи"
REGISTER = "confirmed_orders"
# Where the demo's endpoint would deliver: the demo's own address, never anywhere outside. It is
# switched off (see `_webhook`), so the worker sends nothing until someone points it at a receiver.
WEBHOOK_PATH = "/demo/webhook-receiver/"
WEBHOOK_OFF_REASON = ("Демо: адрес никуда не ведёт. Укажите URL своего приёмника и включите "
                      "(Demo: points nowhere; set your receiver's URL, then enable)")


@dataclass
class Process:
    calendar: Calendar
    store: Pipeline
    b2b: Pipeline
    stages: dict[str, list[Stage]]  # "store" / "b2b" -> stages in order
    robots: dict[str, Robot]  # a short name -> robot
    reasons: dict[str, LostReason]
    templates: dict[str, MessageTemplate]
    endpoint: WebhookEndpoint
    lead_robot: Robot | None = None
    extra: dict = field(default_factory=dict)


def process_seed(*, admin: User) -> Process:
    calendar = calendar_create(actor=admin, data={
        "name": "Производственный календарь РФ (Москва)", "timezone": "Europe/Moscow", "country": "RU",
        "hours": {d: "09:00-18:00" for d in ("mon", "tue", "wed", "thu", "fri")}, "is_default": True})
    reasons = {name: lost_reason_create(actor=admin, name=name) for name in dd.LOST_REASONS}
    templates = _templates(admin)
    _sms_provider(admin)
    endpoint = _webhook(admin)
    store = pipeline_create(
        actor=admin, name=STORE, calendar_id=calendar.pk,
        fields=[{"key": "delivery_date", "label": "Дата доставки", "type": "date"},
                {"key": "delivery_method", "label": "Способ доставки", "type": "choice",
                 "choices": dd.DELIVERY_METHODS},
                # The stores' order keys a manager edits in place on the board (okno/deals/quick_fields.py).
                {"key": "delivery_address", "label": "Адрес доставки", "type": "text"},
                {"key": "comment", "label": "Комментарий", "type": "text"}],
        stages=[{"name": "Новый", "kind": "open", "color": "#3b82f6"},
                {"name": "Пауза", "kind": "paused", "color": "#f59e0b"},
                {"name": "Подтверждён", "kind": "open", "required_fields": ["delivery_date"], "color": "#8b5cf6"},
                {"name": "Выполнен", "kind": "won", "color": "#22c55e"},
                {"name": "Отменён", "kind": "lost", "color": "#9ca3af"}])
    opt = Department.objects.get(name="Опт")
    b2b = pipeline_create(
        actor=admin, name=B2B, calendar_id=calendar.pk, department_id=opt.parent_id or opt.pk,
        stages=[{"name": "Квалификация", "kind": "open"}, {"name": "Коммерческое предложение", "kind": "open"},
                {"name": "Переговоры", "kind": "open"}, {"name": "Успешно", "kind": "won"},
                {"name": "Проиграно", "kind": "lost"}])
    stages = {"store": list(store.stages.order_by("position")), "b2b": list(b2b.stages.order_by("position"))}
    robots = _robots(admin, stages, templates)
    lead_robot = robot_create(actor=admin, data={
        "for_leads": True, "kind": "deadline", "name": "Лид взят в работу за 15 минут", "within": "PT15M",
        "time": "working", "escalate": {"action": "notify_head"}})
    return Process(calendar=calendar, store=store, b2b=b2b, stages=stages, robots=robots, reasons=reasons,
                   templates=templates, endpoint=endpoint, lead_robot=lead_robot)


def _templates(admin: User) -> dict[str, MessageTemplate]:
    specs = {
        "sms_accepted": ("SMS: заказ принят", "sms", "", dd.SMS_ORDER_ACCEPTED),
        "email_confirmed": ("E-mail: заказ подтверждён", "email", dd.EMAIL_CONFIRMED_SUBJECT,
                            dd.EMAIL_CONFIRMED_BODY),
        "email_proposal": ("E-mail: коммерческое предложение", "email", dd.EMAIL_PROPOSAL_SUBJECT,
                           dd.EMAIL_PROPOSAL_BODY),
    }
    return {key: message_template_save(actor=admin, template=MessageTemplate(
        name=name, channel=channel, subject=subject, body=body))
        for key, (name, channel, subject, body) in specs.items()}


def _sms_provider(admin: User) -> SmsProvider:
    """SMS.ru with a made-up api_id, switched off: the demo never sends an SMS anywhere. Queued SMS
    wait in the outbox (and give up after its retries) until a real provider is switched on."""
    return sms_provider_save(actor=admin, provider=SmsProvider(
        kind=SmsProvider.Kind.SMSRU, name="SMS.ru (демо, выключен)", api_key="demo-api-id", sender="OknoShop",
        is_default=True, is_active=False))


def _webhook(admin: User) -> WebhookEndpoint:
    """An endpoint on the demo's own address (allowed as a private one by the administrator),
    switched off at once: a live one would be sent every deal event, and the demo has no receiver."""
    endpoint = webhook_endpoint_create(
        actor=admin, url=settings.SITE_URL.rstrip("/") + WEBHOOK_PATH, events=["deal.created", "deal.stage_changed"],
        allow_private_network=True, description="Учётная система склада (демо)")
    webhook_endpoint_disable(endpoint_id=endpoint.pk, reason=WEBHOOK_OFF_REASON)
    endpoint.refresh_from_db()
    return endpoint


def _robots(admin: User, stages: dict[str, list[Stage]], templates: dict[str, MessageTemplate]) -> dict[str, Robot]:
    new, pause, confirmed = (s.pk for s in stages["store"][:3])
    qual, proposal, negotiation = (s.pk for s in stages["b2b"][:3])
    retail = Department.objects.get(name="Розница")
    r: dict[str, Robot] = {}

    def add(key: str, **data) -> None:
        r[key] = robot_create(actor=admin, data=data)

    add("new_sms", stage_id=new, kind="action", name="SMS клиенту: заказ принят", trigger={"on": "enter"},
        action={"type": "sms_customer", "template_id": templates["sms_accepted"].pk})
    add("new_deadline", stage_id=new, kind="deadline", name="Обработать за 30 минут", within="PT30M",
        time="working", escalate={"action": "notify_head"})
    add("new_deadline2", stage_id=new, kind="deadline", name="Второй уровень: передать другому менеджеру",
        within="PT1H", time="working", parent_id=r["new_deadline"].pk,
        escalate={"action": "reassign", "department_id": retail.pk})
    add("pause_deadline", stage_id=pause, kind="deadline", name="Пауза — не дольше конца рабочего дня",
        until="end_of_working_day", time="working", escalate={"action": "move", "stage_id": new})
    add("pause_notify", stage_id=pause, kind="action", name="Напомнить о заказе на паузе",
        trigger={"after": "PT2H", "time": "working"},
        action={"type": "notify_responsible", "text": "Заказ на паузе больше двух часов: свяжитесь с клиентом"})
    add("confirmed_register", stage_id=confirmed, kind="action", name="Подтверждённые заказы",
        trigger={"on": "enter"}, action={"type": "register", "register_name": REGISTER})
    add("confirmed_email", stage_id=confirmed, kind="action", name="Письмо клиенту: заказ подтверждён",
        trigger={"on": "enter"}, action={"type": "email_customer", "template_id": templates["email_confirmed"].pk})
    add("qual_work", stage_id=qual, kind="action", name="Квалифицировать: бюджет, ЛПР, сроки",
        trigger={"on": "enter"},
        action={"type": "create_work_item", "title": "Квалифицировать: бюджет, ЛПР, сроки", "due": "PT4H"})
    add("qual_deadline", stage_id=qual, kind="deadline", name="Квалификация за 2 рабочих дня", within="P2D",
        time="working", escalate={"action": "notify_head"})
    add("proposal_email", stage_id=proposal, kind="action", name="Письмо с КП", trigger={"on": "enter"},
        action={"type": "email_customer", "template_id": templates["email_proposal"].pk})
    add("proposal_followup", stage_id=proposal, kind="action", name="Перезвонить по КП",
        trigger={"after": "P2D", "time": "working"},
        action={"type": "create_work_item", "title": "Перезвонить клиенту: получил ли КП, есть ли вопросы",
                "due": "PT4H"})
    add("negotiation_deadline", stage_id=negotiation, kind="deadline", name="Переговоры не дольше 10 рабочих дней",
        within="P10D", time="working", escalate={"action": "notify_head"})
    return r
