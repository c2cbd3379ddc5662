"""The push stream: Server-Sent Events to the signed-in user's tabs, under ASGI and WSGI."""

import asyncio

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.test import AsyncClient, Client

from okno.people.tests.factories import UserFactory
from okno.push.asgi import application
from okno.push.models import Push
from okno.push.services import Delivery, push_send, pushes_forget_old

pytestmark = pytest.mark.django_db(transaction=True)


def test_push_is_sent_once_per_user_kind_and_key(db):
    ann, bob = UserFactory(), UserFactory()
    assert push_send(user_ids=[ann.pk, bob.pk, ann.pk], kind="screen_pop", key="7", payload={"a": 1}) == 2
    push_send(user_ids=[ann.pk], kind="screen_pop", key="7", payload={"a": 2})
    assert Push.objects.count() == 2


def test_frame_is_server_sent_events_with_an_id():
    frame = Delivery(id=5, user_id=1, kind="screen_pop", payload={"number": "+7 916 123-45-67"}).as_sse()
    assert frame == b'id: 5\nevent: screen_pop\ndata: {"number":"+7 916 123-45-67"}\n\n'


def test_anonymous_stream_is_refused():
    assert Client().get("/push/stream").status_code == 401


def test_asgi_stream_delivers_only_the_users_own_pushes_as_they_come(settings):
    settings.OKNO_PUSH_POLL_SECONDS = 0.02
    ann, bob = UserFactory(), UserFactory()
    client = AsyncClient()
    client.force_login(ann)

    async def scenario() -> list[bytes]:
        response = await client.get("/push/stream")
        assert response.status_code == 200 and response["Content-Type"] == "text/event-stream"
        chunks = aiter(response.streaming_content)
        first = await anext(chunks)
        # after the stream is open, a pop for bob and one for ann
        await sync_to_async(push_send)(user_ids=[bob.pk], kind="screen_pop", key="1", payload={"who": "bob"})
        await sync_to_async(push_send)(user_ids=[ann.pk], kind="screen_pop", key="2", payload={"who": "ann"})
        second = await asyncio.wait_for(anext(chunks), timeout=5)
        await chunks.aclose()
        return [first, second]

    first, second = async_to_sync(scenario)()
    assert first == b"retry: 1000\n\n"
    assert b'"who":"ann"' in second and b"event: screen_pop" in second


def test_reconnect_with_last_event_id_replays_what_was_missed():
    ann = UserFactory()
    push_send(user_ids=[ann.pk], kind="screen_pop", key="1", payload={"n": 1})
    seen = Push.objects.get().pk
    push_send(user_ids=[ann.pk], kind="screen_pop", key="2", payload={"n": 2})
    client = Client()
    client.force_login(ann)
    response = client.get("/push/stream", headers={"Last-Event-ID": str(seen)})
    chunks = iter(response.streaming_content)
    assert next(chunks) == b"retry: 1000\n\n"
    assert b'"n":2' in next(chunks)
    response.close()


def test_wsgi_stream_polls_for_new_pushes(settings):
    settings.OKNO_PUSH_POLL_SECONDS = 0.02
    ann = UserFactory()
    client = Client()
    client.force_login(ann)
    response = client.get("/push/stream")
    chunks = iter(response.streaming_content)
    next(chunks)
    push_send(user_ids=[ann.pk], kind="screen_pop", key="9", payload={"n": 9})
    assert b'"n":9' in next(chunks)
    response.close()


def test_the_site_origin_may_read_the_stream_from_another_port(settings):
    settings.SITE_URL = "http://127.0.0.1:8000"
    client = Client()
    client.force_login(UserFactory())
    response = client.get("/push/stream", headers={"Origin": "http://127.0.0.1:8000", "Last-Event-ID": "0"})
    assert response["Access-Control-Allow-Origin"] == "http://127.0.0.1:8000"
    assert response["Access-Control-Allow-Credentials"] == "true"
    response.close()
    other = client.get("/push/stream", headers={"Origin": "http://evil.example", "Last-Event-ID": "0"})
    assert not other.has_header("Access-Control-Allow-Origin")
    other.close()


def test_asgi_application_answers_the_lifespan_protocol():
    messages = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])
    sent = []

    async def receive():
        return next(messages)

    async def send(message):
        sent.append(message["type"])

    async_to_sync(application)({"type": "lifespan"}, receive, send)
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


def test_old_pushes_are_forgotten(db):
    ann = UserFactory()
    push_send(user_ids=[ann.pk], kind="screen_pop", key="1", payload={})
    Push.objects.update(created_at="2020-01-01T00:00:00Z")
    push_send(user_ids=[ann.pk], kind="screen_pop", key="2", payload={})
    assert pushes_forget_old() == 1 and Push.objects.count() == 1
