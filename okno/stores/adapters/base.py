"""What every store adapter provides: the hooks view, the drains and the API call only this.

An adapter turns the store's payloads into plain dataclasses and writes a status back over
the store's API. It touches no ORM: the services (okno.stores.sync) do the rest.
"""

import hmac
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

import requests
from django.utils.dateparse import parse_datetime
from django.utils.timezone import is_naive, make_aware
from django.utils.translation import gettext_noop

# A store answering slower than this is treated as down (the write is retried later).
HTTP_TIMEOUT_SECONDS = 15


class Refused(Exception):
    """The request does not prove it comes from the store: nothing is processed (401/403)."""

    def __init__(self, reason: str, status: int = 403):
        super().__init__(reason)
        self.status = status


class Malformed(Exception):
    """The body cannot be read as the store's order: kept, marked rejected with the reason."""


class Ignored(Exception):
    """A well-formed request with no order in it (a ping, a test submission)."""


# StoreUnreachable's fixed reasons, listed so that the sync log and pages show them translated
# (okno.core.reasons.reason_text); the API answers them in English as they are.
REASONS = [gettext_noop("this kind of store takes no status from Okno"),
           gettext_noop("no callback_url: this connection takes no status back")]


class StoreUnreachable(Exception):
    """The store is down, timed out or answered an error: the write or poll is retried.

    `permanent` marks an answer no retry will change (a 404 for a deleted order)."""

    def __init__(self, reason: str, *, status_code: int | None = None, permanent: bool = False):
        super().__init__(reason)
        self.status_code = status_code
        self.permanent = permanent


@dataclass
class OrderLine:
    name: str
    sku: str = ""
    quantity: Decimal = Decimal("1")
    price: Decimal = Decimal("0")


@dataclass
class Customer:
    name: str = ""
    phones: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)


@dataclass
class Order:
    """An order as the store states it now. `updated_at`/`version` order the store's states."""

    external_id: str
    number: str = ""
    status: str = ""
    updated_at: datetime | None = None
    version: int | None = None
    customer: Customer = field(default_factory=Customer)
    lines: list[OrderLine] = field(default_factory=list)
    total: Decimal | None = None
    currency: str = ""
    delivery: dict = field(default_factory=dict)  # method, address, price, date
    payment: dict = field(default_factory=dict)  # method, paid
    comment: str = ""


@dataclass
class Written:
    """What the store answered to a status write: its new modification time/version if it said."""

    updated_at: datetime | None = None
    version: int | None = None


@dataclass(frozen=True)
class Setting:
    key: str
    label: str
    help: str = ""
    required: bool = True
    secret: bool = False
    url: bool = False


class StoreAdapter:
    kind: str = ""
    settings: tuple[Setting, ...] = ()
    # False for a store with no API to write a status to or poll (Tilda's forms).
    can_write = True
    can_poll = True

    def verify(self, *, headers: dict[str, str], body: bytes, settings: dict, query: dict) -> None:
        """Raises Refused unless the request proves it comes from the store."""

    def topic(self, *, headers: dict[str, str], body: bytes) -> str:
        return ""

    def expand(self, *, settings: dict, body: str) -> str:
        """The order's full body when the webhook only names it (pretix); as given by default."""
        return body

    def parse(self, *, body: str, headers: dict[str, str]) -> list[Order]:
        raise NotImplementedError

    def write_status(self, *, settings: dict, external_id: str, status: str) -> Written:
        raise StoreUnreachable("this kind of store takes no status from Okno", permanent=True)

    def list_changed(self, *, settings: dict, since: datetime | None) -> list[str]:
        """Bodies (as `parse` reads them) of orders changed since `since` (all recent when None)."""
        return []

    def test_connection(self, *, settings: dict) -> str:
        """A short description of what answered; raises StoreUnreachable with the reason."""
        return "ok"


def signature_matches(expected: str, given: str) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), given.strip().encode())


def decimal(value, default: Decimal | None = Decimal("0")) -> Decimal | None:
    """A Decimal from the store's number or string ("1 500,00", 1500.1); default when unreadable."""
    if value is None or value == "" or isinstance(value, bool):
        return default
    text = repr(value) if isinstance(value, float) else str(value)
    try:
        number = Decimal(text.replace("\u00a0", "").replace(" ", "").replace(",", "."))
    except InvalidOperation:
        return default
    return number if number.is_finite() else default


def aware(value) -> datetime | None:
    """An aware datetime from an ISO string; a naive one is the store's UTC (WooCommerce's *_gmt)."""
    if not value or not isinstance(value, str):
        return None
    try:
        parsed = parse_datetime(value.strip().replace(" ", "T", 1))
    except ValueError:
        return None
    if parsed is None:
        return None
    return make_aware(parsed, UTC) if is_naive(parsed) else parsed


def http(method: str, url: str, *, json=None, auth=None, headers: dict | None = None, params=None,
         data: bytes | None = None):
    """One call to the store's API; StoreUnreachable names the reason of any failure."""
    try:
        response = requests.request(method, url, json=json, data=data, auth=auth, headers=headers, params=params,
                                    timeout=HTTP_TIMEOUT_SECONDS)
    except requests.RequestException as exc:
        raise StoreUnreachable(f"{type(exc).__name__}: {exc}"[:500]) from exc
    if response.status_code >= 400:
        # 404/410: the order is gone from the store, no retry brings it back; others may pass.
        raise StoreUnreachable(f"HTTP {response.status_code}: {response.text[:300]}",
                               status_code=response.status_code,
                               permanent=response.status_code in (404, 410))
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError as exc:
        raise StoreUnreachable(f"the store answered something that is not JSON: {response.text[:200]}") from exc


def text(value, limit: int = 500) -> str:
    return str(value).strip()[:limit] if value not in (None, False) else ""
