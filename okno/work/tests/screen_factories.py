"""The manager screen's test data: a department with a PBX line whose click-to-call is recorded,
managers with extensions, customers with deals, invoices and a queue."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from okno.contacts.tests.factories import make_contact
from okno.deals.models import DealLineItem
from okno.deals.tests.factories import DealFactory
from okno.inbox import adapters
from okno.inbox.tests.factories import make_channel
from okno.invoices.services import payment_record
from okno.invoices.tests.factories import make_invoice
from okno.people.tests.factories import DepartmentFactory, UserFactory
from okno.telephony.models import PbxExtension
from okno.work.tests.factories import just_closed, make_item

KEY, SALT = "5f4dcc3b5aa765d61d8327deb882cf99", "salt-of-this-vpbx"


def record_originates(monkeypatch) -> list[dict]:
    """The Mango adapter's click-to-call, recorded instead of sent (no network in tests)."""
    placed: list[dict] = []
    adapter = adapters.get("mango")
    monkeypatch.setattr(type(adapter), "originate", lambda self, channel, **kw: placed.append(kw))
    return placed


def line_with_manager(*, language: str = "en", extension: str = "101"):
    """A department, its Mango line and a manager with an extension on it; the manager is at work
    (their last close a minute ago: no dormant stack first)."""
    sales = DepartmentFactory(name="Продажи")
    mango = make_channel(kind="mango", name="Mango", department=sales, settings={"api_key": KEY, "api_salt": SALT})
    manager = UserFactory(department=sales, language=language)
    PbxExtension.objects.create(channel=mango, code=extension, user=manager)
    just_closed(manager)
    return sales, mango, manager


def customer_with_world(manager, *, first_name: str = "Иван", phone: str = "+7 916 123-45-67"):
    """A card with a deal of two lines and an invoice partly paid."""
    card = make_contact(actor=manager, first_name=first_name, last_name="Петров", phones=[phone])
    deal = DealFactory(contact=card, responsible=manager, title=f"Курс английского ({first_name})",
                       amount=Decimal("30000.00"))
    DealLineItem.objects.bulk_create([
        DealLineItem(deal=deal, name="Групповые занятия", quantity=Decimal("1"), price=Decimal("25000.00")),
        DealLineItem(deal=deal, name="Учебник", quantity=Decimal("2"), price=Decimal("2500.00"))])
    invoice = make_invoice(contact=card, deal=deal, amount="30000.00",
                           issued_on=timezone.localdate() - timedelta(days=10),
                           due_date=timezone.localdate() - timedelta(days=1))
    payment_record(actor=manager, invoice=invoice, amount="10000")
    return card, deal, invoice


def queue_of(manager, department, n: int, *, kind: str = "follow_up"):
    """`n` due items of the manager's, each with its own customer and phone."""
    items = []
    for i in range(n):
        card = make_contact(actor=manager, first_name=f"Клиент{i}", last_name="Очередной",
                            phones=[f"+7 916 200-{i // 100:02d}-{i % 100:02d}"])
        items.append(make_item(kind=kind, contact=card, assignee=manager, department=department,
                               due_in_minutes=-60 + i))
    return items
