"""Hostile hook bodies (issue 13): JSON nested 100,000 deep or with a 5,000-digit number, and forms
that are not UTF-8. Each is a 4xx naming the reason, never a 500; a channel that keeps what it
cannot read keeps these too (rejected, with the reason); each counts as a refusal of the address."""

import json

import pytest

from okno.inbox.adapters.base import json_hazard
from okno.inbox.drain import inbound_drain
from okno.inbox.models import InboundEvent
from okno.inbox.tests.factories import make_channel

DEEP = b"[" * 100_000 + b"]" * 100_000
LONG_NUMBER = b"1" * 5_000


def _jivo(inside: bytes) -> bytes:
    return b'{"event_name": "offline_message", "widget_id": "1", "chat_id": 7, "message": ' + inside + b"}"


def _telegram(inside: bytes) -> bytes:
    return (b'{"update_id": 5, "message": {"message_id": 1, "chat": {"id": 5, "type": "private"}, "text": '
            + inside + b"}}")


def _tilda(inside: bytes) -> bytes:
    return '{"Name": "Ольга", "Phone": "+79161234567", "extra": '.encode() + inside + b"}"


def _channels() -> dict:
    return {
        "jivo": (make_channel(kind="jivo", name="Jivo"), _jivo, {}),
        "telegram": (bot := make_channel(kind="telegram", name="Bot", settings={"bot_token": "1:x"}), _telegram,
                     {"X-Telegram-Bot-Api-Secret-Token": bot.secret}),
        "tilda": (make_channel(kind="tilda", name="Tilda"), _tilda, {}),
        "form": (make_channel(kind="form", name="Site"), _tilda, {}),
    }


@pytest.mark.django_db
@pytest.mark.parametrize("inside", [DEEP, LONG_NUMBER], ids=["nested 100,000 deep", "5,000-digit number"])
@pytest.mark.parametrize("kind", ["jivo", "telegram", "tilda", "form"])
def test_hostile_json_is_400_and_kept_rejected_with_the_reason(client, kind, inside):
    # given a channel of each kind that takes JSON
    channel, wrap, headers = _channels()[kind]
    # when a body too deep or with a number too long for Python's json is posted
    body = wrap(inside)
    r = client.post(channel.webhook_path, data=body, content_type="application/json", headers=headers)
    # then the answer is 400 with the reason, not a 500
    assert r.status_code == 400, r.content
    reason = r.json()["detail"]
    assert reason in ("JSON nested too deep to read", "a number longer than 4300 digits")
    # and the body is kept, rejected with the reason, so an administrator sees it on the problems page
    event = InboundEvent.objects.get(channel=channel)
    assert (event.status, event.error, bytes(event.body)) == (InboundEvent.Status.REJECTED, reason, body)
    # and the worker leaves it alone
    inbound_drain()
    event.refresh_from_db()
    assert event.status == InboundEvent.Status.REJECTED


@pytest.mark.django_db
def test_the_same_hostile_body_again_is_refused_and_kept_once(client):
    channel = make_channel(kind="jivo", name="Jivo")
    for _ in range(2):
        assert client.post(channel.webhook_path, data=_jivo(DEEP), content_type="application/json").status_code == 400
    assert InboundEvent.objects.filter(channel=channel).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["mango", "zadarma"])
def test_a_signed_form_that_is_not_utf8_is_400_and_not_kept(client, kind):
    # given a Mango and a Zadarma line
    channel = make_channel(kind=kind, name=kind, settings={"api_key": "key", "api_salt": "salt", "api_secret": "s"})
    # when a form with the byte \xff is posted (its signature cannot be checked)
    body = (b"vpbx_api_key=key&sign=x&json={\"entry_id\": \"\xff\"}" if kind == "mango"
            else b"event=NOTIFY_START&caller_id=\xff&called_did=1&call_start=2024-01-01+10%3A00%3A00")
    r = client.post(channel.webhook_path + ("events/call" if kind == "mango" else ""), data=body,
                    content_type="application/x-www-form-urlencoded", headers={"Signature": "x"})
    # then it is a 400 that says why, and nothing is kept: nothing proves it is the PBX's
    assert r.status_code == 400
    assert "not UTF-8" in r.json()["detail"]
    assert not InboundEvent.objects.exists()


@pytest.mark.django_db
def test_hostile_bodies_count_as_refusals_of_the_address(client, settings):
    # given three refusals a minute allowed per address
    settings.OKNO_HOOK_REFUSALS_PER_MINUTE = 3
    jivo, mango = make_channel(kind="jivo", name="Jivo"), make_channel(kind="mango", settings={"api_key": "k"})
    # when one address posts five hostile bodies, each different
    answers = [client.post(jivo.webhook_path, data=_jivo(DEEP + b" " * i), content_type="application/json")
               for i in range(3)]
    answers += [client.post(mango.webhook_path + "events/call", data=b"json=\xff",
                            content_type="application/x-www-form-urlencoded") for _ in range(2)]
    # then the first three are refused with the reason, the rest with 429, and those are not kept
    assert [r.status_code for r in answers] == [400, 400, 400, 429, 429]
    assert InboundEvent.objects.count() == 3


@pytest.mark.django_db
def test_a_hostile_body_already_stored_is_rejected_by_the_worker_not_retried():
    # given Jivo, Tilda and Telegram events stored before this check existed, too deep to parse
    bodies = {"jivo": _jivo(DEEP), "tilda": _tilda(LONG_NUMBER), "telegram": _telegram(DEEP)}
    events = [InboundEvent.objects.create(channel=make_channel(kind=kind, name=kind, settings={"bot_token": "1:x"}),
                                          body=body, content_type="application/json")
              for kind, body in bodies.items()]
    # when the worker drains them
    inbound_drain()
    # then each is rejected with the reason, not failed and retried
    for event in events:
        event.refresh_from_db()
        assert event.status == InboundEvent.Status.REJECTED, (event.channel.kind, event.error)
        assert "nested too deep" in event.error or "longer than 4300 digits" in event.error


def test_the_check_passes_ordinary_json_and_what_only_looks_hostile_inside_strings():
    messages = ",".join(json.dumps({"text": "[[[[" * 30 + "1" * 5_000, "n": [1, 2]}) for _ in range(200))
    assert json_hazard(f'{{"chat": {{"messages": [{messages}]}}}}'.encode()) is None
    assert json_hazard(b"[" * 500 + b"]" * 500) is None  # deep, yet Python reads it
    assert json_hazard(DEEP) == json_hazard(b"[" * 100_000) == "JSON nested too deep to read"
    assert json_hazard(b'{"n": ' + LONG_NUMBER + b"}") == "a number longer than 4300 digits"
    assert json_hazard(b'{"n": 1' + b" " * 10) is None  # merely malformed: the adapter says why
    assert json_hazard(b"name=" + b"[" * 100_000) is None  # a form, not JSON


@pytest.mark.django_db
@pytest.mark.parametrize("inside", [DEEP, LONG_NUMBER], ids=["nested 100,000 deep", "5,000-digit number"])
def test_the_apis_json_bodies_are_4xx_too(api, inside):
    # when a client posts a contact whose body is too deep or holds a too-long number
    body = '{"first_name": "Ольга", "x": '.encode() + inside + b"}"
    r = api.client.post("/api/v1/contacts", data=body, content_type="application/json", headers=api.headers)
    # then it is a 4xx (django-ninja cannot parse it and says so), not a 500
    assert 400 <= r.status_code < 500, r.content


def _nested_multipart(depth: int) -> tuple[bytes, str]:
    body = b"".join(b"--b%d\r\nContent-Type: multipart/form-data; boundary=b%d\r\n\r\n" % (i, i + 1)
                    for i in range(depth))
    body += b'--b%d\r\nContent-Disposition: form-data; name="Name"\r\n\r\nOlga\r\n' % depth
    body += b"".join(b"--b%d--\r\n" % i for i in reversed(range(depth + 1)))
    return body, "multipart/form-data; boundary=b0"


@pytest.mark.django_db
def test_multipart_nested_too_deep_is_refused_or_rejected_never_a_500(client):
    # given a Tilda form with an API key (checked in the body's fields) and a plain site form
    tilda = make_channel(kind="tilda", settings={"api_key": "k", "api_key_name": "apikey"})
    form = make_channel(kind="form")
    body, content_type = _nested_multipart(5_000)
    # when multipart parts nested 5,000 deep are posted to both
    r_tilda = client.post(tilda.webhook_path, data=body, content_type=content_type)
    r_form = client.post(form.webhook_path, data=body, content_type=content_type)
    # then Tilda cannot find its key in them (403, not kept), the form keeps the body
    assert r_tilda.status_code == 403 and r_form.status_code == 200
    # and the worker rejects it with the reason, instead of retrying a RecursionError
    inbound_drain()
    event = InboundEvent.objects.get()
    assert event.status == InboundEvent.Status.REJECTED and "multipart body cannot be read" in event.error
