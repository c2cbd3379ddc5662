"""The push process's poller and ids committed out of order: a push whose id the poller passed
while its transaction was still open is delivered when it commits, once; a hole that never
fills (a rolled-back insert) is forgotten."""

import pytest

from okno.people.tests.factories import UserFactory
from okno.push import hub
from okno.push.models import Push


@pytest.fixture(autouse=True)
def _keep_the_test_connection(monkeypatch):
    # The poller checks its own thread's connection; here it is the test's, inside its transaction.
    monkeypatch.setattr(hub, "close_old_connections", lambda: None)


def _push(user, pk: int, key: str) -> Push:
    return Push.objects.create(pk=pk, user=user, kind="robot", key=key, payload={"n": key})


def test_an_id_committed_after_a_later_one_is_delivered_once(db):
    # given the poller at id 1000, and the push with id 1002 committed before 1001
    anna = UserFactory()
    holes: dict[int, float] = {}
    _push(anna, 1002, "second")
    last, found = hub._poll(1000, holes)
    assert (last, [d.id for d in found], list(holes)) == (1002, [1002], [1001])
    # when 1001 commits
    _push(anna, 1001, "first")
    last, found = hub._poll(last, holes)
    # then it is delivered, once, and the hole is closed
    assert (last, [d.id for d in found], holes) == (1002, [1001], {})
    assert hub._poll(last, holes)[1] == []


def test_a_hole_that_never_fills_is_forgotten(db, monkeypatch):
    anna = UserFactory()
    holes: dict[int, float] = {}
    _push(anna, 2002, "x")
    last, _found = hub._poll(2000, holes)
    assert list(holes) == [2001]
    clock = hub.time.monotonic() + hub.HOLE_SECONDS + 1
    monkeypatch.setattr(hub.time, "monotonic", lambda: clock)
    hub._poll(last, holes)
    assert holes == {}
