"""The screens' counters without polling: an item landing in a queue is pushed (`work`) to the
people whose counters it changes, after commit."""

import pytest

from okno.people.models import User
from okno.people.tests.factories import DepartmentFactory, UserFactory
from okno.push.models import Push
from okno.work import queue_live
from okno.work.booking import workitem_assign, workitem_create
from okno.work.services import callback_for_missed_call
from okno.work.tests.factories import make_item


def SOON() -> str:  # noqa: N802 - reads as a constant in the bookings below
    from datetime import timedelta

    from django.utils import timezone

    return (timezone.now() + timedelta(hours=2)).isoformat()


@pytest.fixture
def sales(db):
    queue_live._people.clear()  # a rolled-back test's department must not be remembered
    return DepartmentFactory(name="Продажи")


def _work_pushes():
    return sorted(Push.objects.filter(kind="work").values_list("user_id", "payload__item_id"))


def test_an_item_in_the_department_queue_is_pushed_to_everyone_of_it(sales, django_capture_on_commit_callbacks):
    # given a head, two managers, and someone of another department
    head = UserFactory(department=sales, role=User.Role.HEAD)
    anna, boris = UserFactory(department=sales), UserFactory(department=sales)
    UserFactory(department=DepartmentFactory())
    # when the head books a callback for the department's queue
    with django_capture_on_commit_callbacks(execute=True):
        item = workitem_create(actor=head, data={"kind": "callback", "department_id": sales.pk,
                                                 "due_at": SOON()})
    # then each of the department's people is told, once
    assert _work_pushes() == sorted([(head.pk, item.pk), (anna.pk, item.pk), (boris.pk, item.pk)])


def test_a_missed_call_and_an_assignment_tell_the_person_only(sales, django_capture_on_commit_callbacks):
    from django.utils import timezone

    head = UserFactory(department=sales, role=User.Role.HEAD)
    anna = UserFactory(department=sales)
    queued = make_item(kind="callback", department=sales)
    with django_capture_on_commit_callbacks(execute=True):
        callback = callback_for_missed_call(number="+74955404444", contact=None, department=sales,
                                            missed_at=timezone.now())
    assert {(u, i) for u, i in _work_pushes() if i == callback.pk} == {(head.pk, callback.pk), (anna.pk, callback.pk)}
    Push.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        workitem_assign(actor=head, item=queued, assignee_id=anna.pk)
    assert _work_pushes() == [(anna.pk, queued.pk)]


def test_nothing_is_pushed_when_the_booking_is_rolled_back(sales, django_capture_on_commit_callbacks):
    from django.db import transaction

    head = UserFactory(department=sales, role=User.Role.HEAD)
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            workitem_create(actor=head, data={"kind": "callback", "department_id": sales.pk,
                                              "due_at": SOON()})
            transaction.set_rollback(True)
    assert _work_pushes() == []
