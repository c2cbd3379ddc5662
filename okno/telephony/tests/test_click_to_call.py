"""Click-to-call: POST /api/v1/calls queues a request the worker sends to the PBX (Mango's
callback command, replaced here at the network edge by a local server checking the sign)."""

import json
import threading
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest

from okno.contacts.tests.factories import make_contact
from okno.people.tests.factories import UserFactory
from okno.telephony.adapters.mango import mango_sign
from okno.telephony.click_to_call import call_requests_drain
from okno.telephony.models import CallRequest, PbxExtension
from okno.telephony.tests.test_mango import KEY, SALT, mango, sales  # noqa: F401


class FakeMangoApi:
    """A local stand-in for Mango's API: records the commands, answers as queued (default 1000)."""

    def __init__(self):
        self.commands: list[tuple[str, dict, bool]] = []
        self.queued: deque[tuple[int, dict]] = deque()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers["Content-Length"])).decode()
                form = {k: v[-1] for k, v in parse_qs(raw).items()}
                signed = form.get("sign") == mango_sign(form.get("vpbx_api_key", ""), form.get("json", ""), SALT)
                fake.commands.append((self.path, json.loads(form.get("json", "{}")), signed))
                status, body = fake.queued.popleft() if fake.queued else (200, {"result": 1000})
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/vpbx/"


@pytest.fixture
def mango_api(mango):  # noqa: F811
    fake = FakeMangoApi()
    threading.Thread(target=fake.server.serve_forever, daemon=True).start()
    mango.settings = {**mango.settings, "api_url": fake.url}
    mango.save()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


def test_a_manager_calls_a_customer_from_the_card(mango, sales, mango_api, api_as):  # noqa: F811
    # given a manager on extension 101 and their customer
    manager = UserFactory(department=sales)
    PbxExtension.objects.create(channel=mango, code="101", user=manager)
    contact = make_contact(first_name="Ольга", phones=["8 (916) 123-45-67"], responsible_id=manager.pk)
    # when the manager presses the number
    r = api_as(manager).post("/api/v1/calls", {"contact_id": contact.pk})
    assert r.status_code == 202, r.content
    body = r.json()
    assert (body["status"], body["number"], body["extension"]) == ("pending", "+79161234567", "101")
    # then the worker sends Mango's signed callback command: ring 101, then the customer
    assert call_requests_drain() == 1
    path, command, signed = mango_api.commands[0]
    assert path == "/vpbx/commands/callback" and signed
    assert command == {"command_id": body["command_id"], "from": {"extension": "101"}, "to_number": "79161234567"}
    assert CallRequest.objects.get().status == "sent"


def test_a_pbx_that_is_down_is_retried_and_a_refusal_is_kept_with_its_reason(mango, sales, mango_api, api_as):  # noqa: F811
    manager = UserFactory(department=sales)
    PbxExtension.objects.create(channel=mango, code="101", user=manager)
    mango_api.queued.extend([(503, {}), (200, {"result": 3102})])
    request_id = api_as(manager).post("/api/v1/calls", {"number": "+7 916 765-43-21"}).json()["id"]
    call_requests_drain()
    request = CallRequest.objects.get(pk=request_id)
    assert request.status == "pending" and "503" in request.error and request.run_after > request.created_at
    CallRequest.objects.filter(pk=request_id).update(run_after=request.created_at)
    call_requests_drain()
    request.refresh_from_db()
    assert request.status == "failed" and "3102" in request.error
    assert len(mango_api.commands) == 2


def test_bad_requests_are_clear_errors(mango, sales, api_as):  # noqa: F811
    manager = UserFactory(department=sales)
    api = api_as(manager)
    no_extension = api.post("/api/v1/calls", {"number": "+79161234567"})
    assert no_extension.status_code == 400 and no_extension.json()["errors"][0]["field"] == "extension"
    PbxExtension.objects.create(channel=mango, code="101", user=manager)
    bad = api.post("/api/v1/calls", {"number": "12"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "number"
    assert api.post("/api/v1/calls", {}).status_code == 400
    stranger_card = make_contact(first_name="Чужой", phones=["+79031112233"])
    assert api.post("/api/v1/calls", {"contact_id": stranger_card.pk}).status_code == 404
    assert not CallRequest.objects.exists()


def test_the_cards_call_button_queues_a_call_for_a_manager_with_an_extension(mango, sales, client):  # noqa: F811
    manager = UserFactory(department=sales)
    contact = make_contact(first_name="Ольга", phones=["8 (916) 123-45-67"], responsible_id=manager.pk)
    client.force_login(manager)
    # without an extension there is no button
    assert 'hx-post="/telephony/call/"' not in client.get(f"/contacts/{contact.pk}/").content.decode()
    PbxExtension.objects.create(channel=mango, code="101", user=manager)
    page = client.get(f"/contacts/{contact.pk}/").content.decode()
    assert 'hx-post="/telephony/call/"' in page and 'value="+79161234567"' in page
    # pressing it queues the request and says so in place
    r = client.post("/telephony/call/", {"contact_id": contact.pk, "number": "+79161234567"})
    assert r.status_code == 200 and "field-error" not in r.content.decode()
    assert CallRequest.objects.get().number == "+79161234567"
    # a bad number is said in place too, and nothing is queued
    r = client.post("/telephony/call/", {"number": "12"})
    assert "field-error" in r.content.decode() and CallRequest.objects.count() == 1


def test_the_contact_list_and_company_page_have_the_call_button_too(mango, sales, client):  # noqa: F811
    manager = UserFactory(department=sales)
    PbxExtension.objects.create(channel=mango, code="101", user=manager)
    contact = make_contact(first_name="Ольга", phones=["8 (916) 123-45-67"], responsible_id=manager.pk,
                           company="ООО Ромашка")
    company = contact.company
    client.force_login(manager)
    for page in (client.get("/contacts/"), client.get(f"/contacts/companies/{company.pk}/")):
        html = page.content.decode()
        assert page.status_code == 200
        assert 'hx-post="/telephony/call/"' in html and f'name="contact_id" value="{contact.pk}"' in html
