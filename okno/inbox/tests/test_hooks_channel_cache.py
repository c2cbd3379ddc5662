"""The hook view's channel cache: only an active channel of its kind, and a change seen at once.

The web entry in front of the view (okno.inbox.hooks_wsgi) has its own tests: test_hooks_wsgi*.py.
"""

from okno.inbox.models import InboundEvent
from okno.inbox.tests.factories import make_channel


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


def test_a_channel_changed_by_another_process_stops_its_old_url_and_secret_at_once(db, client):
    # given a Telegram channel and a form channel, each already read (and cached) by a hook
    from okno.inbox.models import Channel

    bot = make_channel(kind="telegram", settings={"bot_token": "1:x"})
    form = make_channel()
    update = (b'{"update_id": 1, "message": {"message_id": 1, "chat": {"id": 5, "type": "private"}, '
              b'"date": 1, "text": "hi"}}')

    def tg(secret: str, update_id: int):
        return client.post(bot.webhook_path, data=update.replace(b'"update_id": 1', b'"update_id": %d' % update_id),
                           content_type="application/json", headers={"X-Telegram-Bot-Api-Secret-Token": secret})

    assert tg(bot.secret, 1).status_code == 200
    assert client.post(form.webhook_path, data={"name": "Ольга"}).status_code == 200
    # when another process rotates the bot's secret and deactivates the form (no signals here)
    Channel.objects.filter(pk=bot.pk).update(secret="rotated-secret-rotated-secret")
    Channel.objects.filter(pk=form.pk).update(is_active=False)
    # then the old secret is refused and the form's URL is gone, and nothing more is stored
    assert tg(bot.secret, 2).status_code == 403
    assert client.post(form.webhook_path, data={"name": "Пётр"}).status_code == 404
    assert InboundEvent.objects.count() == 2
    # while the new secret works
    assert tg("rotated-secret-rotated-secret", 3).status_code == 200
    assert InboundEvent.objects.filter(channel=bot).count() == 2
