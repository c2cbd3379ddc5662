"""SMS providers' published HTTP APIs, one adapter module each (no ORM: the drain passes the provider row).

An adapter has `send(provider, *, to, text, key) -> SmsSent` and `status(provider, *, message_id, to)
-> str`; both raise SmsError with the provider's own words. Everything a provider answers that
is not a clear success is an error: the drain logs it, retries it on the outbox's schedule and
gives up after the last try.
"""

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from types import ModuleType

# A provider slower than this is retried later; its own pages answer in well under a second.
TIMEOUT_SECONDS = 15


class SmsError(Exception):
    """The provider refused or failed; args[0] says why (its code and text when it gave them)."""


@dataclass
class SmsSent:
    message_id: str
    # Our word for what the provider said at once: "accepted".
    status: str = "accepted"


# Delivery statuses we keep, in our words (each adapter maps the provider's codes onto these).
ACCEPTED, SENT, DELIVERED, UNDELIVERED, UNKNOWN = "accepted", "sent", "delivered", "undelivered", "unknown"
FINAL = {DELIVERED, UNDELIVERED}


def get_json(url: str, params: dict) -> dict:
    """GET url?params and parse JSON; raises SmsError on anything else."""
    full = url + ("&" if "?" in url else "?") + urllib.parse.urlencode(params)
    try:
        with urllib.request.urlopen(full, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 (admin-set URL)
            raw = response.read(100_000)
    except urllib.error.HTTPError as exc:
        raise SmsError(f"HTTP {exc.code}") from exc
    except (OSError, ValueError) as exc:
        raise SmsError(f"{type(exc).__name__}: {exc}") from exc
    try:
        data = json.loads(raw.decode("utf-8", "replace"))
    except json.JSONDecodeError as exc:
        raise SmsError(f"not JSON: {raw[:200]!r}") from exc
    if not isinstance(data, dict):
        raise SmsError(f"unexpected answer: {str(data)[:200]}")
    return data


def adapter(kind: str) -> ModuleType:
    from okno.outbox.sms import smsc, smsru

    adapters = {"smsru": smsru, "smsc": smsc}
    if kind not in adapters:
        raise SmsError(f"unknown SMS provider kind {kind!r}")
    return adapters[kind]


def digits(phone: str) -> str:
    """Both providers take the number in international format without "+": 79161234567."""
    return "".join(ch for ch in phone if ch.isdigit())
