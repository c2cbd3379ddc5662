"""The head's queue: what waits (by kind, due, the oldest), in Next's order, and an item given to
a manager by hand; managers may not browse it."""

import pytest
from django.urls import reverse

from okno.people.models import User
from okno.people.tests.factories import DepartmentFactory, UserFactory
from okno.work.models import DepartmentWorkSettings, WorkItem
from okno.work.tests.factories import make_item


@pytest.fixture
def sales(db):
    return DepartmentFactory(name="Продажи")


@pytest.fixture
def head(sales):
    return UserFactory(department=sales, role=User.Role.HEAD, first_name="Ирина", last_name="Главная")


@pytest.fixture
def anna(sales):
    return UserFactory(department=sales, first_name="Анна", last_name="Звонкова")


@pytest.fixture
def queue(sales):
    """Two callbacks, a new lead and a follow-up due now; a callback later; another department's item."""
    return {
        "old_callback": make_item(kind="callback", department=sales, due_in_minutes=-30, number="+74950000001"),
        "callback": make_item(kind="callback", department=sales, due_in_minutes=-5, number="+74950000002"),
        "lead": make_item(kind="new_lead", department=sales, due_in_minutes=-90),
        "follow_up": make_item(kind="follow_up", department=sales, due_in_minutes=-600),
        "later": make_item(kind="callback", department=sales, due_in_minutes=60),
        "foreign": make_item(kind="callback", department=DepartmentFactory(name="Склад"), due_in_minutes=-50),
    }


def test_the_head_sees_the_queue_by_kind_and_in_next_order(head, anna, queue, api_as):
    # when the head reads the queue
    answer = api_as(head).get("/api/v1/work/queue")
    # then per kind: due now, later, the oldest due; the items in Next's order, then the later one
    assert answer.status_code == 200, answer.content
    body = answer.json()
    kinds = {k["kind"]: k for k in body["kinds"]}
    assert (kinds["callback"]["due"], kinds["callback"]["later"]) == (2, 1)
    assert kinds["callback"]["oldest_due_at"][:16] == queue["old_callback"].due_at.isoformat()[:16]
    assert [k["kind"] for k in body["kinds"]] == ["callback", "new_lead", "follow_up"]
    assert [i["id"] for i in body["items"]] == [queue[k].pk for k in ("old_callback", "callback", "lead", "follow_up",
                                                                      "later")]
    assert (body["due"], body["later"], body["more"]) == (4, 1, 0)
    assert anna.pk in {p["id"] for p in body["people"]}


def test_the_department_ranks_order_the_view(head, sales, queue, api_as):
    DepartmentWorkSettings.objects.create(department=sales, priorities={"follow_up": 1, "callback": 2})
    body = api_as(head).get(f"/api/v1/work/queue?department={sales.pk}").json()
    assert body["items"][0]["id"] == queue["follow_up"].pk
    assert body["kinds"][0] == {**body["kinds"][0], "kind": "follow_up", "rank": 1}


def test_managers_may_not_browse_the_queue_and_other_heads_not_a_foreign_department(anna, sales, queue, api_as,
                                                                                       client):
    assert api_as(anna).get("/api/v1/work/queue").status_code == 403
    client.force_login(anna)
    assert client.get(reverse("work:queue")).status_code == 403
    assert client.post(reverse("work:queue_assign", args=[queue["callback"].pk]),
                       {"assignee": anna.pk}).status_code == 403
    assert WorkItem.objects.get(pk=queue["callback"].pk).assignee_id is None
    stranger = UserFactory(role=User.Role.HEAD, department=DepartmentFactory(name="Чужой"))
    assert api_as(stranger).get(f"/api/v1/work/queue?department={sales.pk}").status_code == 404


def test_the_page_lists_the_queue_and_assigns_an_item_by_hand(head, anna, sales, queue, client):
    # given the head on the queue page
    client.force_login(head)
    page = client.get(reverse("work:queue"), HTTP_ACCEPT_LANGUAGE="ru")
    html = page.content.decode()
    assert page.status_code == 200
    assert f'id="queue-item-{queue["old_callback"].pk}"' in html
    assert f'id="queue-item-{queue["foreign"].pk}"' not in html
    assert "Звонкова" in html and 'href="/work/queue/"' in html
    # when the head gives the new lead to Anna
    answer = client.post(reverse("work:queue_assign", args=[queue["lead"].pk]),
                         {"assignee": anna.pk, "department": sales.pk}, HTTP_ACCEPT_LANGUAGE="ru")
    # then it is hers, and the page says so
    assert answer.status_code == 302 and answer["Location"] == f"{reverse('work:queue')}?department={sales.pk}"
    assert WorkItem.objects.get(pk=queue["lead"].pk).assignee_id == anna.pk
    after = client.get(answer["Location"], HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert f'id="queue-item-{queue["lead"].pk}"' not in after


def test_a_full_day_is_refused_with_the_first_free_day(head, anna, sales, queue, client):
    # given Anna's day is full (capacity 1, one item of hers due today)
    DepartmentWorkSettings.objects.create(department=sales, daily_capacity=1)
    make_item(kind="follow_up", assignee=anna, department=sales, due_in_minutes=1)
    client.force_login(head)
    # when the head gives her a callback due now
    answer = client.post(reverse("work:queue_assign", args=[queue["callback"].pk]), {"assignee": anna.pk},
                         HTTP_ACCEPT_LANGUAGE="en", follow=True)
    # then nothing changes and the page names the next free day
    assert WorkItem.objects.get(pk=queue["callback"].pk).assignee_id is None
    assert "The first free day" in answer.content.decode() or "Первый свободный день" in answer.content.decode()


def test_no_person_chosen_is_named(head, queue, client):
    client.force_login(head)
    client.post(reverse("work:queue_assign", args=[queue["callback"].pk]), {"assignee": ""})
    assert WorkItem.objects.get(pk=queue["callback"].pk).assignee_id is None
