import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from okno.inbox.models import Channel, InboundEvent
from okno.inbox.tests.factories import make_channel
from okno.people.tests.factories import DepartmentFactory, UserFactory

ADMIN_PAGES = ["/inbox/channels/", "/inbox/channels/new/", "/inbox/problems/"]


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def failed_event(channel, body=b'{"phone": "+7 916"}', error="Traceback ...\nValueError: boom") -> InboundEvent:
    return InboundEvent.objects.create(channel=channel, body=body, content_type="application/json",
                                       status=InboundEvent.Status.FAILED, attempts=6, error=error)


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_admin_pages_are_for_administrators_only(db, admin_user, path):
    assert logged_in(admin_user).get(path).status_code == 200
    assert logged_in(UserFactory()).get(path).status_code == 403


def test_channel_page_and_actions_are_for_administrators_only(db, admin_user):
    channel = make_channel()
    manager = logged_in(UserFactory())
    assert manager.get(f"/inbox/channels/{channel.pk}/").status_code == 403
    assert manager.post(f"/inbox/channels/{channel.pk}/rotate/").status_code == 403
    event = failed_event(channel)
    assert manager.post("/inbox/problems/retry/", {"event": event.pk}).status_code == 403
    assert InboundEvent.objects.get(pk=event.pk).status == InboundEvent.Status.FAILED
    assert Channel.objects.get(pk=channel.pk).token == channel.token


def test_create_channel_through_the_form(db, admin_user):
    sales, fallback = DepartmentFactory(name="Продажи"), UserFactory()
    client = logged_in(admin_user)
    # the kind select lists the registered adapters
    page = client.get("/inbox/channels/new/").content.decode()
    assert 'value="form"' in page and 'value="tilda"' in page
    # bad input stays on the form with the errors
    bad = client.post("/inbox/channels/new/", {"kind": "form", "name": "Сайт", "settings": "[1, 2"})
    assert bad.status_code == 200 and not Channel.objects.exists()
    assert "JSON" in bad.content.decode()
    r = client.post("/inbox/channels/new/", {
        "kind": "form", "name": "Сайт", "department": sales.pk, "fallback_user": fallback.pk,
        "settings": '{"allowed_origins": ["https://shop.example.ru"]}'})
    channel = Channel.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/inbox/channels/{channel.pk}/"
    assert (channel.kind, channel.name, channel.department, channel.fallback_user) == ("form", "Сайт", sales, fallback)
    assert channel.settings == {"allowed_origins": ["https://shop.example.ru"], "route_subdepartments": False}
    page = client.get(r["Location"]).content.decode()
    assert channel.webhook_path in page and channel.secret in page
    assert channel.webhook_path in client.get("/inbox/channels/").content.decode()


def test_rotating_the_secret_cuts_off_the_old_url(db, admin_user, client):
    channel = make_channel()
    old_path, old_secret = channel.webhook_path, channel.secret
    r = logged_in(admin_user).post(f"/inbox/channels/{channel.pk}/rotate/")
    assert r.status_code == 302
    channel.refresh_from_db()
    assert channel.webhook_path != old_path and channel.secret != old_secret
    assert client.post(old_path, {"phone": "+7 916 000-00-01"}).status_code == 404
    assert client.post(channel.webhook_path, {"phone": "+7 916 000-00-01"}).status_code == 200
    assert InboundEvent.objects.count() == 1


def test_problems_page_lists_failed_rejected_unknown_with_error_and_escaped_body(db, admin_user):
    channel = make_channel(name="Лендинг")
    failed = failed_event(channel, body=b"<script>alert(1)</script>" + b"x" * 5000)
    rejected = InboundEvent.objects.create(channel=channel, body=b"{not json", status="rejected", error="not JSON")
    unknown = InboundEvent.objects.create(channel=channel, body=b"{}", status="unknown", error="type chat_deleted")
    done = InboundEvent.objects.create(channel=channel, body=b"{}", status="done")
    page = logged_in(admin_user).get("/inbox/problems/").content.decode()
    for e in (failed, rejected, unknown):
        assert f'id="event-{e.pk}"' in page
    assert f'id="event-{done.pk}"' not in page
    assert "ValueError: boom" in page and "type chat_deleted" in page and "Лендинг" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page
    assert "x" * 1000 not in page  # the body preview is truncated
    # filtered by status
    only_rejected = logged_in(admin_user).get("/inbox/problems/?status=rejected").content.decode()
    assert f'id="event-{rejected.pk}"' in only_rejected and f'id="event-{failed.pk}"' not in only_rejected


def test_process_again_requeues_one_selected_or_all_failed(db, admin_user):
    channel = make_channel()
    one, two, three = failed_event(channel), failed_event(channel), failed_event(channel)
    rejected = InboundEvent.objects.create(channel=channel, body=b"x", status="rejected", error="bad")
    client = logged_in(admin_user)
    # one event's button
    r = client.post("/inbox/problems/retry/", {"only": one.pk, "event": [three.pk],
                                               "next": "/inbox/problems/?status=failed"})
    assert r.status_code == 302 and r["Location"] == "/inbox/problems/?status=failed"
    one.refresh_from_db()
    assert (one.status, one.attempts, one.error) == ("received", 0, "")
    assert set(InboundEvent.objects.filter(pk__in=[two.pk, three.pk]).values_list("status", flat=True)) == {"failed"}
    # the ticked ones
    client.post("/inbox/problems/retry/", {"event": [two.pk]})
    assert InboundEvent.objects.get(pk=two.pk).status == "received"
    # every failed one; a rejected one stays until chosen
    client.post("/inbox/problems/retry/", {"all_failed": "1"})
    assert InboundEvent.objects.get(pk=three.pk).status == "received"
    assert InboundEvent.objects.get(pk=rejected.pk).status == "rejected"
    # and an outside "next" is not followed
    r = client.post("/inbox/problems/retry/", {"event": rejected.pk, "next": "https://evil.example/"})
    assert r["Location"] == "/inbox/problems/"


def test_nav_shows_the_failed_count_to_administrators_only(db, admin_user):
    channel = make_channel()
    failed_event(channel), failed_event(channel)
    InboundEvent.objects.create(channel=channel, body=b"x", status="rejected")
    admin_page = logged_in(admin_user).get("/contacts/").content.decode()
    nav = admin_page[admin_page.index('id="nav-inbox-problems"'):]
    assert nav[:nav.index("</a>")].endswith('">2</span>') and 'badge-off' in nav[:nav.index("</a>")]
    manager = logged_in(UserFactory())
    with CaptureQueriesContext(connection) as queries:
        manager_page = manager.get("/contacts/").content.decode()
    assert not [q for q in queries if "inbox_inboundevent" in q["sql"]]  # no count for non-admins
    assert "nav-inbox-problems" not in manager_page and "/inbox/problems/" not in manager_page
    assert 'hx-get="/leads/notifications/"' in manager_page
