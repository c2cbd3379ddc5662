from django.core.management.base import BaseCommand, CommandError

from okno.inbox.adapters.base import SendFailed
from okno.inbox.adapters.telegram import webhook_register
from okno.inbox.channels import channel_webhook_url
from okno.inbox.models import Channel


class Command(BaseCommand):
    help = ("Points a Telegram bot's webhook at CHANNEL_ID's URL with the channel's secret "
            "(run again after rotating the channel's secret).")

    def add_arguments(self, parser):
        parser.add_argument("channel_id", type=int)
        parser.add_argument("--url", help="the public URL, when SITE_URL is not what Telegram can reach")

    def handle(self, *args, channel_id: int, url: str | None = None, **options):
        channel = Channel.objects.filter(pk=channel_id, kind="telegram").first()
        if channel is None:
            raise CommandError(f"No Telegram channel with id {channel_id}")
        url = url or channel_webhook_url(channel)
        if not url.startswith("https://"):
            # Telegram delivers webhooks over HTTPS only (ports 443, 80, 88, 8443).
            self.stderr.write(f"warning: {url} is not HTTPS; Telegram will refuse it")
        try:
            webhook_register(channel, url=url)
        except SendFailed as exc:
            raise CommandError(f"setWebhook failed: {exc}") from None
        self.stdout.write(f"Telegram will post updates of channel {channel.pk} to {url}")
