"""Outbound webhooks: queued with the change, signed per Standard Webhooks, retried, disabled on 410."""

import json
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from standardwebhooks import Webhook

from okno.core import events
from okno.outbox import webhooks
from okno.outbox.drain import WEBHOOK_DELAYS, outbox_drain, retry_delay
from okno.outbox.models import DeliveryAttempt, OutboxMessage
from okno.outbox.tests.factories import make_endpoint
from okno.outbox.tests.servers import LocalServer, Recorder


def _due_now():
    OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING).update(run_after=timezone.now())


def test_the_published_test_vector_signs_as_standard_webhooks_says():
    # given the specification's secret, id, timestamp and body
    # when we sign them
    sig = webhooks.sign(secret="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", msg_id="msg_p5jXN8AQM9LWM0D4loKWxJek",
                        timestamp=1614265330, body='{"test": 2432232314}')
    # then the signature is the published one
    assert sig == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_an_event_reaches_each_subscribed_endpoint_signed_and_verifiable(db):
    recorder = Recorder()
    with LocalServer(recorder) as server:
        # given two endpoints for deal.created and one for calls only
        a = make_endpoint(server.url + "/a", events=["deal.created"])
        b = make_endpoint(server.url + "/b?x=1", events=["*"])
        make_endpoint(server.url + "/calls", events=["call.finished"])
        # when a deal is created (the event published in the creating transaction)
        with transaction.atomic():
            events.publish("deal.created", subject=None, data={"deal_id": 5, "title": "Заказ", "amount": "10.00"})
        assert OutboxMessage.objects.filter(kind="webhook").count() == 2
        outbox_drain()
    # then each subscribed endpoint got it once, and the standardwebhooks library verifies it
    assert sorted(r["path"] for r in recorder.requests) == ["/a", "/b"]
    for r, endpoint in zip(sorted(recorder.requests, key=lambda r: r["path"]), (a, b), strict=True):
        payload = Webhook(endpoint.secret).verify(r["body"], r["headers"])
        assert payload["type"] == "deal.created"
        assert payload["data"] == {"deal_id": 5, "title": "Заказ", "amount": "10.00"}
        assert payload["timestamp"].endswith("Z")
        assert r["headers"]["webhook-id"].startswith("msg_")
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {"sent"}
    assert DeliveryAttempt.objects.filter(ok=True, status_code=200).count() == 2


def test_a_rolled_back_change_sends_nothing(db):
    make_endpoint("http://127.0.0.1:9/x")
    # given a change that publishes and then fails
    try:
        with transaction.atomic():
            events.publish("lead.created", subject=None, data={"lead_id": 1})
            raise RuntimeError("the change failed")
    except RuntimeError:
        pass
    # then no delivery was queued
    assert not OutboxMessage.objects.exists()


def test_a_failed_delivery_is_retried_with_the_same_webhook_id_first_within_a_minute(db):
    recorder = Recorder()
    recorder.answers = [(500, "boom", {}), (502, "bad gateway", {})]
    with LocalServer(recorder) as server:
        endpoint = make_endpoint(server.url + "/hook")
        events.publish("contact.created", subject=None, data={"contact_id": 1})
        # when the first try fails
        before = timezone.now()
        outbox_drain()
        message = OutboxMessage.objects.get()
        # then it is pending, due again within a minute
        assert message.status == "pending" and "HTTP 500" in message.last_error
        assert message.run_after - before < timedelta(minutes=1)
        # when it is due and fails again (502), then succeeds
        _due_now()
        outbox_drain()
        message.refresh_from_db()
        assert message.status == "pending" and message.run_after - timezone.now() > timedelta(minutes=4)
        _due_now()
        outbox_drain()
    message.refresh_from_db()
    assert message.status == "sent" and message.attempts == 3
    # then every try carried the same webhook-id, each validly signed with its own timestamp
    ids = {r["headers"]["webhook-id"] for r in recorder.requests}
    assert ids == {message.key} and len(recorder.requests) == 3
    for r in recorder.requests:
        Webhook(endpoint.secret).verify(r["body"], r["headers"])
    log = DeliveryAttempt.objects.filter(endpoint=endpoint).order_by("attempt").values_list("attempt", "status_code")
    log = list(log)
    assert log == [(1, 500), (2, 502), (3, 200)]


def test_the_back_off_spans_about_three_days_then_gives_up():
    # given the schedule
    total = sum(WEBHOOK_DELAYS, timedelta())
    # then the first retry is within a minute and the whole spans about three days
    assert retry_delay("webhook", 1) < timedelta(minutes=1)
    assert timedelta(days=3) <= total <= timedelta(days=3, hours=12)
    assert retry_delay("webhook", len(WEBHOOK_DELAYS) + 1) is None


def test_410_disables_the_endpoint(db):
    recorder = Recorder(lambda r: (410, "gone", {}))
    with LocalServer(recorder) as server:
        endpoint = make_endpoint(server.url + "/old")
        events.publish("deal.created", subject=None, data={"deal_id": 1})
        outbox_drain()
        # when another event comes after the endpoint said it is gone
        events.publish("deal.created", subject=None, data={"deal_id": 2})
        outbox_drain()
    endpoint.refresh_from_db()
    # then the endpoint is disabled, the message failed, and nothing more was queued for it
    assert not endpoint.is_active and "410" in endpoint.disabled_reason
    assert list(OutboxMessage.objects.values_list("status", flat=True)) == ["failed"]
    assert len(recorder.requests) == 1


def test_a_429_waits_at_least_its_retry_after(db):
    recorder = Recorder(lambda r: (429, "slow down", {"Retry-After": "600"}))
    with LocalServer(recorder) as server:
        make_endpoint(server.url + "/busy")
        events.publish("deal.created", subject=None, data={})
        outbox_drain()
    message = OutboxMessage.objects.get()
    assert message.status == "pending" and message.run_after - timezone.now() > timedelta(minutes=9)


def test_a_private_address_is_refused_at_send_time_unless_allowed(db):
    recorder = Recorder()
    with LocalServer(recorder) as server:
        # given an endpoint whose URL now points at a private address and is not allowed to
        make_endpoint(server.url + "/internal", allow_private_network=False)
        events.publish("deal.created", subject=None, data={})
        outbox_drain()
    # then nothing was sent and the message failed naming the reason
    message = OutboxMessage.objects.get()
    assert recorder.requests == []
    assert message.status == "failed" and "private" in message.last_error


def test_the_body_is_the_same_bytes_on_every_try(db):
    recorder = Recorder()
    recorder.answers = [(503, "later", {})]
    with LocalServer(recorder) as server:
        make_endpoint(server.url + "/h")
        events.publish("call.finished", subject=None, data={"call_id": 3, "talk_seconds": 61})
        outbox_drain()
        _due_now()
        outbox_drain()
    first, second = (r["body"] for r in recorder.requests)
    assert first == second and json.loads(first)["data"] == {"call_id": 3, "talk_seconds": 61}


def test_a_single_delivery_to_one_endpoint_once_per_key(db):
    from okno.outbox.services import outbox_webhook

    recorder = Recorder()
    with LocalServer(recorder) as server:
        endpoint = make_endpoint(server.url + "/robot", events=[])
        first = outbox_webhook(endpoint=endpoint, event="robot.webhook", data={"run_id": 1}, key="robotrun-1")
        again = outbox_webhook(endpoint=endpoint, event="robot.webhook", data={"run_id": 1}, key="robotrun-1")
        assert first.pk == again.pk
        outbox_drain()
    (request,) = recorder.requests
    assert request["headers"]["webhook-id"] == "robotrun-1"
    assert Webhook(endpoint.secret).verify(request["body"], request["headers"])["type"] == "robot.webhook"


def test_an_endpoint_deleted_while_its_message_is_in_flight_breaks_nothing(db):
    from okno.outbox import drain

    recorder = Recorder()
    with LocalServer(recorder) as server:
        gone = make_endpoint(server.url + "/gone")
        kept = make_endpoint(server.url + "/kept")
        events.publish("deal.created", subject=None, data={})
        messages = list(OutboxMessage.objects.select_related("endpoint").order_by("pk"))
        # when one endpoint is deleted after its message was sent, before the result is written
        gone.delete()
        drain.record_many([(m, drain.Result(ok=True)) for m in messages])
    # then the other's result is written and nothing fails
    assert list(OutboxMessage.objects.values_list("endpoint_id", "status")) == [(kept.pk, "sent")]
