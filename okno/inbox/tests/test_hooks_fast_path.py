from okno.inbox.models import InboundEvent
from okno.inbox.tests.factories import make_channel


def test_a_hook_skips_the_browser_middleware_but_keeps_content_length(db, client):
    # given a form channel
    channel = make_channel()
    # when a site posts to it
    r = client.post(channel.webhook_path, data={"name": "Ольга", "phone": "+7 916 123-45-67"})
    # then it is stored and answered with a length (keep-alive clients need it), without the
    # browser's middleware: no clickjacking header, no cookies, no Vary on them
    assert r.status_code == 200 and InboundEvent.objects.filter(channel=channel).count() == 1
    assert r["Content-Length"] == str(len(r.content))
    assert not r.has_header("X-Frame-Options") and not r.cookies
    assert "Cookie" not in r.get("Vary", "")
    # while a page still goes through all of it
    assert client.get("/login/").has_header("X-Frame-Options")


def test_a_hook_finds_only_an_active_channel_of_its_kind(db, client):
    # given an active and an inactive channel
    active, inactive = make_channel(settings={"redirect_url": "https://example.ru/thanks"}), make_channel()
    inactive.is_active = False
    inactive.save()
    # then the active one answers with its own settings, the inactive one and a wrong kind are 404
    r = client.post(active.webhook_path, data={"name": "Пётр"}, headers={"Accept": "text/html"})
    assert r.status_code == 303 and r["Location"] == "https://example.ru/thanks"
    assert client.post(inactive.webhook_path, data={"name": "Пётр"}).status_code == 404
    assert client.post(f"/hooks/tilda/{active.token}/", data={"name": "Пётр"}).status_code == 404
    assert client.post("/hooks/form/", data={"name": "Пётр"}).status_code == 404
    assert InboundEvent.objects.filter(channel=active).count() == 1
