"""The demo's queues: a manager opening the screen and pressing Next sees the flow at once."""

import pytest
from django.test import Client
from django.utils import timezone

from okno.demo import company as demo
from okno.invoices.models import Invoice
from okno.people.models import User
from okno.work.models import WorkItem
from okno.work.screen import screen_next, screen_outcome


@pytest.fixture
def seeded(db):
    return demo.demo_seed(contacts=400, seed=11)


def test_the_queues_hold_every_kind_the_screen_serves(seeded):
    kinds = set(WorkItem.objects.filter(status=WorkItem.Status.OPEN).values_list("kind", flat=True))
    assert {"callback", "new_lead", "follow_up", "payment_control"} <= kinds
    # unpaid invoices past their due date are chased, one item each
    overdue = Invoice.objects.filter(status__in=Invoice.UNPAID, due_date__lt=timezone.localdate())
    assert overdue.exists()
    assert WorkItem.objects.filter(kind="payment_control", invoice__in=overdue).count() == overdue.count()
    assert Invoice.objects.filter(status="partly_paid").exists()


def test_a_manager_presses_next_and_works_through_the_flow(seeded):
    # given: a sales manager at the start of the day (the first Next serves a dormant customer)
    manager = (User.objects.filter(department__name="Опт", role=User.Role.MANAGER)
               .filter(work_items__kind="follow_up").order_by("pk").first())
    served = []
    for _ in range(6):
        opened = screen_next(actor=manager)
        assert opened.item is not None
        served.append(opened.item.kind)
        screen_outcome(actor=manager, item=opened.item, outcome="done")
    # then: a customer to win back first, then the queue by rank
    assert served[0] == "reactivation" and len(set(served)) >= 2
    # and the screen page itself draws the next item with its customer
    client = Client()
    client.force_login(manager)
    client.post("/work/screen/next/")
    page = client.get("/work/screen/")
    assert page.status_code == 200 and b'id="screen-current"' in page.content


def test_the_demo_departments_serve_their_queue_by_next_only(seeded):
    from okno.demo.work_queue import SCREEN_DEPARTMENTS
    from okno.work.models import DepartmentWorkSettings

    rows = DepartmentWorkSettings.objects.filter(department__name__in=SCREEN_DEPARTMENTS)
    assert rows.exists() and all(row.next_only for row in rows)
    # a manager there sees no department's queue to pick from on "My work"
    manager = User.objects.filter(department__name="Опт", role=User.Role.MANAGER).order_by("pk").first()
    client = Client()
    client.force_login(manager)
    html = client.get("/work/").content.decode()
    assert 'id="work-next-only"' in html and 'href="?show=unassigned"' not in html
