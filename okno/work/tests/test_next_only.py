"""A department's `next_only` switch (issue 18: "A manager cannot browse the queue and pick; a head
can see it and assign by hand"): on, its managers see only their own items on "My work" and the
card, cannot take from the queue (403), and get the queue by Next; heads and administrators keep
everything. Off (the default) is issue 15's "My work" (test_my_work.py)."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone, translation

from okno.contacts.tests.factories import make_contact
from okno.core.errors import ApiError
from okno.people.models import User
from okno.people.tests.factories import DepartmentFactory, UserFactory
from okno.work.models import DepartmentWorkSettings, WorkItem
from okno.work.queue_settings import picks_only_by_next
from okno.work.services import workitem_take

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    sales = DepartmentFactory(name="Продажи")
    anna = UserFactory(username="anna", department=sales)
    head = UserFactory(username="head", role=User.Role.HEAD, department=sales)
    customer = make_contact(first_name="Ольга", last_name="Клиентова", phones=["+79161234567"], actor=anna)
    past = timezone.now() - timedelta(hours=2)
    # given: anna's own overdue item, and two of the sales queue (one with anna's card, one a number)
    mine = WorkItem.objects.create(kind=WorkItem.Kind.FOLLOW_UP, contact=customer, assignee=anna,
                                   department=sales, due_at=past)
    queue = WorkItem.objects.create(kind=WorkItem.Kind.CALLBACK, number="+74951112233", department=sales,
                                    due_at=past)
    queue_card = WorkItem.objects.create(kind=WorkItem.Kind.NEW_LEAD, contact=customer, department=sales,
                                         due_at=past)
    DepartmentWorkSettings.objects.create(department=sales, next_only=True)
    return {"sales": sales, "anna": anna, "head": head, "customer": customer, "mine": mine, "queue": queue,
            "queue_card": queue_card}


def _as(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_only_managers_of_a_next_only_department_pick_by_next(world, admin_user):
    assert picks_only_by_next(world["anna"])
    assert not picks_only_by_next(world["head"]) and not picks_only_by_next(admin_user)
    DepartmentWorkSettings.objects.filter(department=world["sales"]).update(next_only=False)
    assert not picks_only_by_next(world["anna"])


def test_the_service_refuses_a_manager_taking_from_the_queue(world):
    with pytest.raises(ApiError) as refused:
        workitem_take(actor=world["anna"], item=world["queue"])
    assert refused.value.status == 403
    world["queue"].refresh_from_db()
    assert world["queue"].assignee_id is None


def test_my_work_shows_a_manager_only_their_own_items_and_no_take(world):
    # when
    pages = {show: _as(world["anna"]).get(f"/work/?show={show}").content.decode()
             for show in ("all", "overdue", "mine", "unassigned")}
    # then: no queue tab, the queue's items nowhere, no Take button
    for html in pages.values():
        assert f'id="work-item-{world["mine"].pk}"' in html
        assert f'id="work-item-{world["queue"].pk}"' not in html
        assert f'id="work-item-{world["queue_card"].pk}"' not in html
        listing = html[html.index('id="work-list"'):]
        assert 'href="?show=unassigned"' not in html and "/take/" not in listing[:listing.index("</section>")]
        assert 'id="work-next-only"' in html
    # the sidebar counts anna's own item only
    nav = pages["all"][pages["all"].index('id="nav-my-work"'):][:600]
    assert ">1<" in nav


def test_taking_by_post_is_403_with_the_reason_and_nothing_changes(world):
    with translation.override("en"):
        answer = _as(world["anna"]).post(f"/work/{world['queue'].pk}/take/", HTTP_ACCEPT_LANGUAGE="en")
    assert answer.status_code == 403
    assert "Items of your department&#x27;s queue come by Next on the manager screen" in answer.content.decode()
    world["queue"].refresh_from_db()
    assert world["queue"].assignee_id is None


def test_the_card_panel_offers_no_take_to_the_manager_but_does_to_the_head(world):
    customer, queue_card = world["customer"], world["queue_card"]
    panel = _as(world["anna"]).get(f"/work/for-contact/{customer.pk}/").content.decode()
    assert f'id="work-item-{queue_card.pk}"' in panel and f"/work/{queue_card.pk}/take/" not in panel
    head_panel = _as(world["head"]).get(f"/work/for-contact/{customer.pk}/").content.decode()
    assert f"/work/{queue_card.pk}/take/" in head_panel


def test_heads_and_administrators_keep_the_queue_and_take(world, admin_user):
    for user in (world["head"], admin_user):
        html = _as(user).get("/work/?show=unassigned").content.decode()
        assert f'id="work-item-{world["queue"].pk}"' in html and f"/work/{world['queue'].pk}/take/" in html
    assert _as(world["head"]).post(f"/work/{world['queue'].pk}/take/").status_code == 302
    world["queue"].refresh_from_db()
    assert world["queue"].assignee == world["head"]


def test_next_still_serves_the_manager_the_queue(world, api_as):
    DepartmentWorkSettings.objects.filter(department=world["sales"]).update(max_break_minutes=24 * 60)
    from okno.work.services import manager_shift_mark

    manager_shift_mark(user=world["anna"], at=timezone.now())
    answer = api_as(world["anna"]).post("/api/v1/work/next")
    assert answer.status_code == 200 and answer.json()["id"] == world["queue"].pk


def test_the_api_reads_and_writes_the_switch(world, api_as):
    head = world["head"]
    api = api_as(head)
    url = f"/api/v1/departments/{world['sales'].pk}/work-settings"
    assert api.get(url).json()["next_only"] is True
    off = api.client.put(url, headers=api.headers, content_type="application/json", data={"next_only": False})
    assert off.status_code == 200 and off.json()["next_only"] is False
    bad = api.client.put(url, headers=api.headers, content_type="application/json", data={"next_only": "yes"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "next_only"
    assert DepartmentWorkSettings.objects.get(department=world["sales"]).next_only is False
    # a manager may read it, not change it
    assert api_as(world["anna"]).get(url).json()["next_only"] is False
    refused = api_as(world["anna"]).client.put(url, headers=api_as(world["anna"]).headers,
                                               content_type="application/json", data={"next_only": True})
    assert refused.status_code == 403
