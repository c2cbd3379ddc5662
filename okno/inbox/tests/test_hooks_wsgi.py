"""The /hooks/ entry below Django's handler (okno.inbox.hooks_wsgi), through okno.wsgi.application.

Real commits (transactional_db): the entry runs Django's connection hygiene, which closes a
connection it finds inside a test's wrapping transaction, as it would a leaked one.
"""

import threading
from urllib.parse import urlencode

import pytest

from okno.inbox.models import InboundEvent
from okno.inbox.tests.factories import make_channel
from okno.inbox.tests.wsgi_calls import post_form, wsgi_call

pytestmark = pytest.mark.django_db(transaction=True)


def _count_from_another_connection(channel) -> int:
    """What another connection (another thread's) sees: only committed rows."""
    from django.db import connection

    seen = []

    def count() -> None:
        try:
            seen.append(InboundEvent.objects.filter(channel=channel).count())
        finally:
            connection.close()

    thread = threading.Thread(target=count)
    thread.start()
    thread.join()
    return seen[0]


def test_a_hook_is_stored_and_committed_before_it_is_acknowledged():
    # given a form channel
    channel = make_channel()
    # when a site posts to it through the web entry
    r = post_form(channel.webhook_path, {"name": "Ольга", "phone": "+7 916 123-45-67"},
                  on_start=lambda: _count_from_another_connection(channel))
    # then, when the answer's status went out, the row was already committed
    assert r.status == 200 and r.at_start == 1
    event = InboundEvent.objects.get(channel=channel)
    assert bytes(event.body) == urlencode({"name": "Ольга", "phone": "+7 916 123-45-67"}).encode()
    assert event.content_type == "application/x-www-form-urlencoded"
    # and the answer has a length (keep-alive senders need it) and none of the browser's headers
    assert r.headers["Content-Length"] == str(len(r.body)) and r.body == b'{"result": "ok"}'
    assert "Set-Cookie" not in r.headers and "X-Frame-Options" not in r.headers
    assert "Connection" not in r.headers  # keep-alive is the server's default; nothing closes it


def test_a_retry_of_a_stored_delivery_is_acknowledged_and_stored_once():
    channel = make_channel(kind="tilda")
    fields = {"Name": "Пётр", "Phone": "+7 916 000-00-01", "tranid": "123:456"}
    assert post_form(channel.webhook_path, fields).status == 200
    r = post_form(channel.webhook_path, fields)
    assert r.status == 200 and r.body == b"ok"
    assert InboundEvent.objects.filter(channel=channel, dedup_key="tilda:123:456").count() == 1


def test_unknown_channels_kinds_and_paths_are_404_and_store_nothing():
    # given an active and an inactive channel
    active, inactive = make_channel(), make_channel()
    inactive.is_active = False
    inactive.save()
    # then every path that names no active channel of its kind is 404
    for path in (inactive.webhook_path, f"/hooks/tilda/{active.token}/", f"/hooks/nosuchkind/{active.token}/",
                 "/hooks/form/unknown-token/", "/hooks/form/", f"/hooks/form/{active.token}", "/hooks/"):
        r = post_form(path, {"name": "Пётр"})
        assert r.status == 404, path
        assert b"Traceback" not in r.body
    assert InboundEvent.objects.count() == 0


def test_methods_other_than_post_are_405():
    channel = make_channel()
    assert wsgi_call("GET", channel.webhook_path).status == 405
    assert wsgi_call("PUT", channel.webhook_path, b"name=x").status == 405
    assert wsgi_call("GET", channel.webhook_path, query=urlencode({"name": "Ольга"})).status == 405
    assert InboundEvent.objects.count() == 0


def test_a_body_over_the_limit_is_413(settings):
    # given hook bodies limited to 100 bytes, and Django's own upload limit at 1,000
    settings.OKNO_HOOK_MAX_BYTES, settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100, 1000
    channel = make_channel()
    # then a body over either is refused with 413, and one within both is stored
    assert post_form(channel.webhook_path, {"name": "x" * 200}).status == 413
    assert post_form(channel.webhook_path, {"name": "x" * 2000}).status == 413
    assert post_form(channel.webhook_path, {"name": "x" * 50}).status == 200
    assert InboundEvent.objects.count() == 1


def test_refusals_are_401_or_403_and_store_nothing():
    # given a form that takes posts from one site, a Telegram bot and a Mango line
    form = make_channel(settings={"allowed_origins": ["https://shop.example.ru"]})
    bot = make_channel(kind="telegram", settings={"bot_token": "1:x"})
    mango = make_channel(kind="mango", settings={"api_key": "key", "api_salt": "salt"})
    # then another site's post, a wrong bot secret and a wrong Mango key are refused
    assert post_form(form.webhook_path, {"name": "Ольга"}, headers={"Origin": "https://evil.example"}).status == 403
    update = b'{"update_id": 1, "message": {"message_id": 1, "chat": {"id": 5, "type": "private"}, "text": "hi"}}'
    r = wsgi_call("POST", bot.webhook_path, update, headers={"Content-Type": "application/json",
                                                               "X-Telegram-Bot-Api-Secret-Token": "wrong"})
    assert r.status == 403
    assert post_form(mango.webhook_path + "events/call", {"vpbx_api_key": "wrong", "sign": "x", "json": "{}"}
                     ).status == 401
    assert InboundEvent.objects.count() == 0
    # while the right ones are let in
    assert post_form(form.webhook_path, {"name": "Ольга"}, headers={"Origin": "https://shop.example.ru"}).status == 200
    r = wsgi_call("POST", bot.webhook_path, update, headers={"Content-Type": "application/json",
                                                               "X-Telegram-Bot-Api-Secret-Token": bot.secret})
    assert r.status == 200 and InboundEvent.objects.count() == 2


def test_too_many_submissions_are_429_and_too_many_refusals_too(settings):
    # given a form that takes one submission a minute from an address
    channel = make_channel(settings={"submissions_per_minute": 1})
    answers = [post_form(channel.webhook_path, {"name": f"Ольга {i}"}, remote_addr="10.0.0.1") for i in range(3)]
    # then the second is kept as ignored and answered 429, the third is refused outright
    assert [a.status for a in answers] == [200, 429, 429] and answers[1].headers["Retry-After"] == "60"
    assert list(InboundEvent.objects.order_by("pk").values_list("status", flat=True)) == ["received", "ignored"]
    # and a sender guessing tokens is slowed down after the allowed refusals
    settings.OKNO_HOOK_REFUSALS_PER_MINUTE = 2
    guesses = [post_form(f"/hooks/form/guess-{i}/", {"name": "x"}, remote_addr="10.0.0.2").status for i in range(4)]
    assert guesses == [404, 404, 429, 429]


def test_a_preflight_and_the_providers_gets_are_answered():
    # given a form, a Zadarma line and a Telphin line
    form = make_channel(settings={"allowed_origins": ["https://shop.example.ru"]})
    zadarma = make_channel(kind="zadarma", settings={"api_secret": "s"})
    telphin = make_channel(kind="telphin")
    # then the browser's preflight gets the form's CORS answer
    r = wsgi_call("OPTIONS", form.webhook_path, headers={"Origin": "https://shop.example.ru"})
    assert r.status == 204 and r.headers["Access-Control-Allow-Origin"] == "https://shop.example.ru"
    assert r.headers["Access-Control-Allow-Methods"] == "POST, OPTIONS"
    # Zadarma's URL check is echoed, stored nowhere
    r = wsgi_call("GET", zadarma.webhook_path, query="zd_echo=a1b2c3")
    assert r.status == 200 and r.body == b"a1b2c3"
    assert InboundEvent.objects.count() == 0
    # and Telphin's GET event is stored, its query string as the body
    query = urlencode({"EventType": "dial-in", "CallID": "c1", "CallerIDNum": "+79161234567"})
    assert wsgi_call("GET", telphin.webhook_path, query=query).status == 200
    event = InboundEvent.objects.get(channel=telphin)
    assert bytes(event.body) == query.encode() and event.event_type == "dial-in"


def test_a_path_event_keeps_its_path_as_the_event_type():
    # given a Mango line, which posts each event type to its own path
    from okno.telephony.adapters.mango import mango_sign

    mango = make_channel(kind="mango", settings={"api_key": "key", "api_salt": "salt"})
    payload = '{"entry_id": "e1", "call_id": "c1", "timestamp": 1, "seq": 1, "call_state": "Appeared"}'
    fields = {"vpbx_api_key": "key", "sign": mango_sign("key", payload, "salt"), "json": payload}
    # when it posts an event
    assert post_form(mango.webhook_path + "events/call", fields).status == 200
    # then the event is stored under that path
    assert InboundEvent.objects.get(channel=mango).event_type == "events/call"


def test_every_other_path_goes_through_django_with_its_middleware():
    r = wsgi_call("GET", "/login/")
    assert r.status == 200 and r.headers["X-Frame-Options"] == "DENY"
