"""PBX hooks and hostile or unusual requests (issue 13): a chunked body (no Content-Length) is
read and its signature checked; a signed JSON field nested too deep is rejected by the worker,
not retried; a form that is not UTF-8 is 400 (okno/inbox/tests/test_hook_malformed.py)."""

import io
import json
from urllib.parse import urlencode

import pytest

from okno.inbox.drain import inbound_drain
from okno.inbox.models import InboundEvent
from okno.inbox.tests.factories import make_channel
from okno.telephony.adapters.mango import mango_sign
from okno.telephony.models import Call

KEY, SALT = "mango-key", "mango-salt"
EVENT = {"entry_id": "e1", "call_id": "leg1", "timestamp": "1399906976", "seq": "1", "call_state": "Appeared",
         "location": "ivr", "from": {"number": "74955404444"}, "to": {"line_number": "74951234567"}}


@pytest.fixture
def mango(db):
    return make_channel(kind="mango", name="Mango", settings={"api_key": KEY, "api_salt": SALT})


def _signed(text: str) -> bytes:
    return urlencode({"vpbx_api_key": KEY, "sign": mango_sign(KEY, text, SALT), "json": text}).encode()


def test_a_chunked_mango_event_is_verified_stored_and_recorded(mango, client):
    # given a signed Mango event sent chunked: no Content-Length, the stream ends with the body
    body = _signed(json.dumps(EVENT))
    # when it arrives
    r = client.generic("POST", mango.webhook_path + "events/call", b"", **{
        "wsgi.input": io.BytesIO(body), "wsgi.input_terminated": True, "HTTP_TRANSFER_ENCODING": "chunked",
        "CONTENT_TYPE": "application/x-www-form-urlencoded"})
    # then its signature is checked on the whole body, it is stored whole, and the call recorded
    assert r.status_code == 200, r.content
    assert bytes(InboundEvent.objects.get().body) == body
    inbound_drain()
    assert Call.objects.get().pbx_call_id == "e1"


def test_a_signed_json_field_nested_too_deep_is_rejected_not_retried(mango, client):
    # given a Mango event whose signed json is nested 100,000 deep (whoever holds the salt)
    r = client.post(mango.webhook_path + "events/call", data=_signed("[" * 100_000 + "]" * 100_000),
                    content_type="application/x-www-form-urlencoded")
    assert r.status_code == 200  # Mango reads the status only; the body is the worker's to judge
    # when the worker drains it
    inbound_drain()
    # then it is rejected with the reason, not failed and retried with a RecursionError
    event = InboundEvent.objects.get()
    assert event.status == InboundEvent.Status.REJECTED and "nested too deep" in event.error
