"""`manage.py demo_call USERNAME`: a pretend customer calls, so a demo shows a screen pop.

It goes the whole real way: signed Mango webhooks to the running site, stored, drained by the
worker, folded into a call, popped to the employee's open page. The first run makes a "Demo PBX"
Mango channel and gives the employee an extension on it.

The running site is the one `make demo` announced in OKNO_VAR_DIR/demo.json (written once it
answers, removed when it stops), so any OKNO_PORT works; without that file, `--site` or SITE_URL.
"""

import json
import os
import secrets
import time
import urllib.error
import urllib.request
from urllib.parse import urlencode

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from okno.inbox.models import Channel
from okno.people.models import User
from okno.telephony.adapters.mango import mango_sign
from okno.telephony.models import PbxExtension

DEMO_CHANNEL = "Demo PBX"
LINE = "74951234567"
# Written by scripts/demo.sh once the site answers: {"site_url", "push_url", "pid"}.
RUNNING_FILE = "demo.json"


def running_site_url() -> tuple[str, str]:
    """(URL of the running demo site, where it was found): demo.sh's file while its script lives,
    else SITE_URL."""
    path = settings.VAR_DIR / RUNNING_FILE
    try:
        running = json.loads(path.read_text())
        url, pid = str(running["site_url"]), int(running.get("pid") or 0)
    except (OSError, ValueError, KeyError, TypeError):
        return settings.SITE_URL, "SITE_URL"
    if pid and not _alive(pid):  # a demo killed by SIGKILL left its file behind
        return settings.SITE_URL, "SITE_URL"
    return url, str(path)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _demo_channel() -> Channel:
    channel = Channel.objects.filter(kind="mango", name=DEMO_CHANNEL).first()
    return channel or Channel.objects.create(kind="mango", name=DEMO_CHANNEL, settings={
        "api_key": secrets.token_hex(16), "api_salt": secrets.token_hex(16)})


class Command(BaseCommand):
    help = "A pretend customer rings an employee through a demo Mango line (screen pop, then a missed call)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--number", default="", help="the caller's number (default: a new random one)")
        parser.add_argument("--ring-seconds", type=float, default=10.0, help="ringing before the caller gives up")
        parser.add_argument("--site", default="", help="the running site's URL (default: the one make demo "
                                                       "announced in OKNO_VAR_DIR/demo.json, else SITE_URL)")

    def handle(self, *args, username: str, number: str, ring_seconds: float, site: str, **options):
        self.site_url, self.site_from = (site, "--site") if site else running_site_url()
        self.site_url = self.site_url.rstrip("/")
        try:
            user = User.objects.filter(username=username, is_active=True).first()
        except DatabaseError as exc:  # another database than the demo's: an empty var/ by default
            raise CommandError(f"This database has no Okno tables ({exc}): run demo_call with the demo's "
                               "OKNO_VAR_DIR and DATABASE_URL, as make demo prints it.") from exc
        if user is None:
            raise CommandError(f"No active user {username!r}")
        channel = _demo_channel()
        extension = PbxExtension.objects.filter(channel=channel, user=user).first()
        if extension is None:
            extension = PbxExtension.objects.create(channel=channel, user=user, code=str(100 + user.pk))
        number = number or f"7916{secrets.randbelow(10**7):07d}"
        entry = f"demo-{secrets.token_hex(6)}"
        frm, to = {"number": number}, {"extension": extension.code, "number": LINE, "line_number": LINE}
        self._post(channel, entry, 1, "Appeared", frm, to)
        self.stdout.write(f"Ringing {user.display_name} (extension {extension.code}) from +{number.lstrip('+')}: "
                          f"their open pages at {self.site_url} show the caller's card.")
        time.sleep(max(0.0, ring_seconds))
        self._post(channel, entry, 2, "Disconnected", frm, to, disconnect_reason=1110)
        self.stdout.write("The caller gave up: a missed call, and a callback once the grace period passes.")

    def _post(self, channel: Channel, entry: str, seq: int, state: str, frm: dict, to: dict, **extra) -> None:
        data = json.dumps({"entry_id": entry, "call_id": f"{entry}-1", "timestamp": str(int(time.time())),
                           "seq": str(seq), "call_state": state, "location": "abonent", "from": frm, "to": to,
                           **extra})
        key, salt = channel.settings["api_key"], channel.settings["api_salt"]
        body = urlencode({"vpbx_api_key": key, "sign": mango_sign(key, data, salt), "json": data}).encode()
        url = self.site_url + channel.webhook_path + "events/call"
        request = urllib.request.Request(url, data=body, headers={
            "Content-Type": "application/x-www-form-urlencoded"})
        try:
            urllib.request.urlopen(request, timeout=10).close()
        except (urllib.error.URLError, OSError) as exc:
            raise CommandError(f"The site at {self.site_url} (from {self.site_from}) did not take the call "
                               f"({exc}): is make demo running, with this OKNO_VAR_DIR and DATABASE_URL?") from exc
