"""POST/GET/DELETE /api/v1/webhook-endpoints and the delivery log."""

import base64
import json

from django.utils import timezone

from okno.core import events
from okno.outbox.drain import outbox_drain
from okno.outbox.models import WebhookEndpoint
from okno.outbox.tests.servers import LocalServer, Recorder
from okno.people.models import User
from okno.people.tests.factories import UserFactory


def test_an_administrator_creates_an_endpoint_and_gets_its_secret_once(api, api_as):
    # when an endpoint is created
    r = api.post("/api/v1/webhook-endpoints", {"url": "https://hooks.example.com/okno", "events": ["deal.created"]})
    # then the answer carries the Standard Webhooks secret
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["url"] == "https://hooks.example.com/okno" and body["events"] == ["deal.created"]
    assert body["secret"].startswith("whsec_")
    assert len(base64.b64decode(body["secret"].removeprefix("whsec_"))) >= 24
    endpoint = WebhookEndpoint.objects.get(pk=body["id"])
    assert endpoint.secret == body["secret"] and endpoint.is_active
    # and a manager who lists endpoints does not see it
    manager = UserFactory(role=User.Role.MANAGER)
    listed = api_as(manager).get("/api/v1/webhook-endpoints").json()
    assert listed[0]["id"] == body["id"] and listed[0]["secret"] is None
    assert api_as(manager).post("/api/v1/webhook-endpoints", {"url": "https://a.example.com/",
                                                                "events": ["*"]}).status_code == 403


def test_a_url_that_is_not_http_or_points_inside_is_refused(api):
    for url in ("ftp://example.com/x", "file:///etc/passwd", "javascript:alert(1)", "http://127.0.0.1:8000/",
                "http://localhost/admin", "http://10.0.0.5/", "http://169.254.169.254/latest/meta-data",
                "http://[::1]/", "http://192.168.1.1/", "not a url"):
        r = api.post("/api/v1/webhook-endpoints", {"url": url, "events": ["deal.created"]})
        assert r.status_code == 400, url
        assert r.json()["errors"][0]["field"] == "url", url
    assert not WebhookEndpoint.objects.exists()


def test_only_an_administrator_may_allow_a_private_address(api, api_as):
    head = UserFactory(role=User.Role.HEAD)
    r = api_as(head).post("/api/v1/webhook-endpoints", {"url": "http://10.0.0.5/hook", "events": ["*"],
                                                        "allow_private_network": True})
    assert r.status_code == 403 and "allow_private_network" in r.json()["detail"]
    r = api.post("/api/v1/webhook-endpoints", {"url": "http://10.0.0.5/hook", "events": ["*"],
                                               "allow_private_network": True})
    assert r.status_code == 201 and r.json()["allow_private_network"] is True


def test_unknown_events_are_refused_naming_the_entry(api):
    r = api.post("/api/v1/webhook-endpoints", {"url": "https://example.com/h",
                                               "events": ["deal.created", "deal.eaten"]})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "events[1]"
    r = api.post("/api/v1/webhook-endpoints", {"url": "https://example.com/h", "events": []})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "events"


def test_the_delivery_log_and_delete(api):
    recorder = Recorder()
    recorder.answers = [(500, "no", {})]
    with LocalServer(recorder) as server:
        r = api.post("/api/v1/webhook-endpoints", {"url": server.url + "/h", "events": ["lead.created"],
                                                   "allow_private_network": True})
        endpoint_id = r.json()["id"]
        events.publish("lead.created", subject=None, data={"lead_id": 9})
        outbox_drain()
        WebhookEndpoint.objects.get(pk=endpoint_id).messages.update(run_after=timezone.now())
        outbox_drain()
    log = api.get(f"/api/v1/webhook-endpoints/{endpoint_id}/deliveries").json()
    assert [(d["attempt"], d["status_code"], d["ok"]) for d in log] == [(2, 200, True), (1, 500, False)]
    assert log[0]["webhook_id"] == log[1]["webhook_id"] and log[0]["event"] == "lead.created"
    assert log[0]["message_status"] == "sent"
    assert api.get(f"/api/v1/webhook-endpoints/{endpoint_id}").json()["secret"].startswith("whsec_")
    assert api.delete(f"/api/v1/webhook-endpoints/{endpoint_id}").status_code == 204
    assert not WebhookEndpoint.objects.exists()
    assert api.get(f"/api/v1/webhook-endpoints/{endpoint_id}").status_code == 404


def test_a_test_event_reaches_the_receiver(api):
    recorder = Recorder()
    with LocalServer(recorder) as server:
        endpoint_id = api.post("/api/v1/webhook-endpoints", {"url": server.url + "/t", "events": ["deal.created"],
                                                             "allow_private_network": True}).json()["id"]
        r = api.post(f"/api/v1/webhook-endpoints/{endpoint_id}/test")
        assert r.status_code == 202
        outbox_drain()
    (request,) = recorder.requests
    assert request["headers"]["webhook-id"] == r.json()["webhook_id"]
    assert json.loads(request["body"])["type"] == "webhook.test"
