import json

from okno.contacts.models import Contact
from okno.core import ratelimit
from okno.inbox.drain import inbound_drain
from okno.inbox.models import InboundEvent
from okno.inbox.services import inbound_event_retry
from okno.inbox.tests.factories import make_channel


def post_json(client, channel, body: dict, **headers):
    return client.post(channel.webhook_path, data=json.dumps(body), content_type="application/json",
                       headers=headers)


def test_over_the_rate_limit_is_answered_429_but_kept_for_a_person(db, client, settings):
    # given a limit of 2 submissions a minute per address
    settings.OKNO_FORM_SUBMISSIONS_PER_MINUTE = 2
    channel = make_channel()
    # when one address posts 3 different submissions, and another address posts one
    codes = [post_json(client, channel, {"phone": f"+7 916 000-00-0{i}"}).status_code for i in range(3)]
    other = client.post(channel.webhook_path, data=json.dumps({"phone": "+7 916 000-00-09"}),
                        content_type="application/json", REMOTE_ADDR="10.0.0.9")
    # then the third is refused with 429, the other address is not affected
    assert codes == [200, 200, 429] and other.status_code == 200
    # and the refused one is stored, ignored, without a dedup key, and never processed by itself
    limited = InboundEvent.objects.get(status=InboundEvent.Status.IGNORED)
    assert limited.dedup_key is None and limited.error.startswith("rate limited")
    inbound_drain()
    assert Contact.objects.count() == 3
    assert InboundEvent.objects.get(pk=limited.pk).status == InboundEvent.Status.IGNORED
    # and "process again" makes the customer's card after all
    inbound_event_retry(event=limited)
    inbound_drain()
    assert Contact.objects.count() == 4


def test_a_flood_beyond_twice_the_limit_stores_nothing_more(db, client, settings):
    settings.OKNO_FORM_SUBMISSIONS_PER_MINUTE = 2
    settings.OKNO_HOOK_REFUSALS_PER_MINUTE = 1000
    channel = make_channel()
    codes = [post_json(client, channel, {"phone": f"+7 916 000-00-{i:02d}"}).status_code for i in range(10)]
    assert codes == [200, 200, 429, 429, 429, 429, 429, 429, 429, 429]
    assert InboundEvent.objects.count() == 4  # 2 accepted + 2 kept over the limit


def test_a_retry_of_a_rate_limited_submission_is_accepted_later(db, client, settings):
    settings.OKNO_FORM_SUBMISSIONS_PER_MINUTE = 1
    channel = make_channel()
    post_json(client, channel, {"phone": "+7 916 000-00-01"})
    body = {"name": "Ольга", "phone": "+7 916 000-00-02"}
    assert post_json(client, channel, body).status_code == 429
    # when the minute has passed (a fresh window) and the customer sends the same form again
    ratelimit.reset()
    assert post_json(client, channel, body).status_code == 200
    inbound_drain()
    assert Contact.objects.filter(first_name="Ольга").count() == 1


def test_cors_preflight_and_allowed_origins(db, client):
    channel = make_channel(settings={"allowed_origins": ["https://shop.example.ru"]})
    # a browser's preflight from the shop's page is answered with its origin
    r = client.options(channel.webhook_path, headers={"Origin": "https://shop.example.ru",
                                                      "Access-Control-Request-Method": "POST"})
    assert r.status_code == 204
    assert r["Access-Control-Allow-Origin"] == "https://shop.example.ru"
    assert "POST" in r["Access-Control-Allow-Methods"] and "Content-Type" in r["Access-Control-Allow-Headers"]
    # the POST itself carries the header too, so the page can read the answer
    ok = post_json(client, channel, {"phone": "+7 916 000-00-01"}, Origin="https://shop.example.ru")
    assert ok.status_code == 200 and ok["Access-Control-Allow-Origin"] == "https://shop.example.ru"
    # another site gets no CORS header on the preflight, and its POST is refused and not stored
    other = client.options(channel.webhook_path, headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other
    assert post_json(client, channel, {"phone": "+7 916 000-00-02"}, Origin="https://evil.example").status_code == 403
    assert InboundEvent.objects.count() == 1


def test_without_allowed_origins_any_site_may_post(db, client):
    channel = make_channel()
    r = client.options(channel.webhook_path, headers={"Origin": "https://any.example"})
    assert r.status_code == 204 and r["Access-Control-Allow-Origin"] == "*"
    posted = post_json(client, channel, {"phone": "1"}, Origin="https://any.example")
    assert posted["Access-Control-Allow-Origin"] == "*"


def test_snippet_on_the_channel_page_has_the_url_honeypot_and_utm_code(db, client, admin_user):
    channel = make_channel(settings={"honeypot": "fax_number"})
    client.force_login(admin_user)
    page = client.get(f"/inbox/channels/{channel.pk}/").content.decode()
    start = page.index('id="form-snippet"')
    snippet = page[start:page.index("</pre>", start)]
    # shown escaped, as text to copy, with this channel's full URL filled in
    assert "&lt;form id=&quot;okno-form-" in snippet and "<form id=" not in snippet
    assert f"http://127.0.0.1:8000{channel.webhook_path}" in snippet or channel.webhook_path in snippet
    assert "name=&quot;fax_number&quot;" in snippet and "left:-10000px" in snippet
    assert "utm_" in snippet and "location.href" in snippet and "application/json" in snippet
    # a Tilda channel has no snippet
    tilda = make_channel(kind="tilda")
    assert 'id="form-snippet"' not in client.get(f"/inbox/channels/{tilda.pk}/").content.decode()
