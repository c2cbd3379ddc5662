"""A worker killed mid-send loses nothing and doubles nothing that has an idempotency key.

The worker is "killed" inside `outbox_drain` after the other side has answered some sends and
before their results are committed: the worst moment. Its leases then run out and another
worker drains the rest.
"""

from collections import Counter
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from okno.core import events
from okno.outbox import drain
from okno.outbox.drain import outbox_drain
from okno.outbox.models import OutboxMessage
from okno.outbox.services import outbox_email
from okno.outbox.tests.factories import make_endpoint
from okno.outbox.tests.servers import LocalServer, Recorder


class Killed(BaseException):
    """kill -9 as seen from inside: nothing after this line runs, no except clause catches it."""


def _expire_leases():
    OutboxMessage.objects.filter(locked_until__isnull=False).update(locked_until=timezone.now() - timedelta(seconds=1))


def test_a_worker_killed_mid_send_loses_nothing_and_repeats_only_with_the_same_key(db, monkeypatch):
    recorder = Recorder()
    with LocalServer(recorder) as server:
        make_endpoint(server.url + "/h", events=["deal.created"])
        # given 40 deals' webhooks and 20 e-mails waiting
        for i in range(40):
            events.publish("deal.created", subject=None, data={"deal_id": i})
        for i in range(20):
            outbox_email(to=f"c{i}@example.ru", subject=f"Заказ {i}", body="Принят", key=f"order-{i}-accepted")
        keys = set(OutboxMessage.objects.values_list("key", flat=True))
        # when the worker dies while writing the second group of results of its first batch
        real_record_many = drain.record_many
        groups = []

        def dying_record_many(done):
            groups.append(len(done))
            if len(groups) == 2:
                raise Killed
            real_record_many(done)

        monkeypatch.setattr(drain, "record_many", dying_record_many)
        with pytest.raises(Killed):
            outbox_drain(batch=50)
        monkeypatch.setattr(drain, "record_many", real_record_many)
        assert OutboxMessage.objects.filter(status="sent").count() == drain.GROUP
        # then while its leases last, another worker does not touch its rows
        leased = set(OutboxMessage.objects.filter(locked_until__gt=timezone.now(), status="pending")
                     .values_list("pk", flat=True))
        assert leased
        outbox_drain(batch=100)
        assert leased <= set(OutboxMessage.objects.filter(status="pending").values_list("pk", flat=True))
        # when the leases run out, the next worker finishes the work
        _expire_leases()
        while outbox_drain(batch=100):
            pass
    # then every message was sent...
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {"sent"}
    hook_ids = Counter(r["headers"]["webhook-id"] for r in recorder.requests)
    mail_ids = Counter(m.extra_headers["Message-ID"] for m in mail.outbox)
    webhook_keys = set(OutboxMessage.objects.filter(kind="webhook").values_list("key", flat=True))
    assert set(hook_ids) == webhook_keys and len(mail_ids) == 20
    # ...and what went out twice went out under the same key, so the receiver drops it: the repeats
    # are the killed batch's sends whose results were never committed, nothing else
    repeats = sum(n - 1 for n in hook_ids.values()) + sum(n - 1 for n in mail_ids.values())
    assert repeats == 50 - drain.GROUP
    assert len(keys) == 60


def test_an_expired_lease_is_sent_once_by_the_next_worker(db):
    recorder = Recorder()
    with LocalServer(recorder) as server:
        make_endpoint(server.url + "/h")
        for i in range(10):
            events.publish("contact.created", subject=None, data={"contact_id": i})
        # given a worker that claimed the rows and died before sending any
        drain.claim_batch(OutboxMessage, ready=drain.Q(status="pending"), limit=100, lease_seconds=60)
        assert outbox_drain() == 0  # leased: nobody else sends them
        _expire_leases()
        assert outbox_drain() == 10
    # then each went out exactly once
    assert sorted(Counter(r["headers"]["webhook-id"] for r in recorder.requests).values()) == [1] * 10
