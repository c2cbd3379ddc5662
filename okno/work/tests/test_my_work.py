"""My work (issue 15, "Callbacks are invisible"): overdue callbacks show in a list with a counter
in the navigation and on their card, and are taken and closed there."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from okno.contacts.tests.factories import make_contact
from okno.people.models import User
from okno.people.tests.factories import DepartmentFactory, UserFactory
from okno.work.models import WorkItem

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    sales, other = DepartmentFactory(name="Продажи"), DepartmentFactory(name="Сервис")
    anna = UserFactory(username="anna", department=sales)
    boris = UserFactory(username="boris", department=sales)
    stranger = UserFactory(username="stranger", department=other)
    customer = make_contact(first_name="Ольга", last_name="Клиентова", phones=["+79161234567"], actor=anna)
    past = timezone.now() - timedelta(hours=2)
    # given: two overdue callbacks: one of anna's card, one of an unknown number in the sales queue
    mine = WorkItem.objects.create(kind=WorkItem.Kind.CALLBACK, number="+79161234567", contact=customer,
                                   assignee=anna, department=sales, due_at=past)
    queue = WorkItem.objects.create(kind=WorkItem.Kind.CALLBACK, number="+74951112233", department=sales,
                                    due_at=past)
    return {"anna": anna, "boris": boris, "stranger": stranger, "customer": customer, "mine": mine, "queue": queue}


def _as(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_my_work_lists_mine_and_the_department_queue_with_a_red_counter(world):
    page = _as(world["anna"]).get("/work/")
    html = page.content.decode()
    assert page.status_code == 200
    assert f'id="work-item-{world["mine"].pk}"' in html and f'id="work-item-{world["queue"].pk}"' in html
    assert "+74951112233" in html
    # the sidebar's item counts both and is an alert (both are overdue)
    assert 'id="nav-my-work"' in html
    nav = html[html.index('id="nav-my-work"'):][:600]
    assert ">2<" in nav and "badge-off" in nav


def test_another_department_sees_neither(world):
    html = _as(world["stranger"]).get("/work/").content.decode()
    assert "work-item-" not in html
    assert _as(world["stranger"]).post(f"/work/{world['mine'].pk}/done/").status_code == 404
    assert _as(world["stranger"]).post(f"/work/{world['queue'].pk}/take/").status_code == 404


def test_take_from_the_queue_then_done_closes_it(world):
    boris, queue = world["boris"], world["queue"]
    assert _as(boris).post(f"/work/{queue.pk}/take/", {"next": "/work/?show=mine"})["Location"] == "/work/?show=mine"
    queue.refresh_from_db()
    assert queue.assignee == boris
    # a second taker is told who has it, and nothing changes
    answer = _as(world["anna"]).post(f"/work/{queue.pk}/take/", follow=True)
    assert "boris" in answer.content.decode() or boris.display_name in answer.content.decode()
    queue.refresh_from_db()
    assert queue.assignee == boris
    # done
    _as(boris).post(f"/work/{queue.pk}/done/")
    queue.refresh_from_db()
    assert queue.status == WorkItem.Status.DONE and queue.closed_at is not None


def test_the_card_shows_its_open_callback_with_its_context_and_done(world):
    customer, mine = world["customer"], world["mine"]
    card = _as(world["anna"]).get(f"/contacts/{customer.pk}/").content.decode()
    assert f"/work/for-contact/{customer.pk}/" in card
    panel = _as(world["anna"]).get(f"/work/for-contact/{customer.pk}/").content.decode()
    assert f'id="work-item-{mine.pk}"' in panel and "+79161234567" in panel and f"/work/{mine.pk}/done/" in panel
    # done from the card goes back to the card, and the panel is empty after
    back = _as(world["anna"]).post(f"/work/{mine.pk}/done/", {"next": f"/contacts/{customer.pk}/"})
    assert back["Location"] == f"/contacts/{customer.pk}/"
    assert "work-item-" not in _as(world["anna"]).get(f"/work/for-contact/{customer.pk}/").content.decode()


def test_a_hostile_next_stays_on_the_site(world):
    answer = _as(world["anna"]).post(f"/work/{world['mine'].pk}/done/", {"next": "//evil.example/x"})
    assert answer["Location"] == "/work/"
