"""Outbound webhooks on the wire: Standard Webhooks signatures, the SSRF guard, one HTTP POST.

No ORM here: the drain hands in plain values and records what comes back.

- Signature (Standard Webhooks v1): `webhook-signature: v1,<base64 HMAC-SHA256>` of
  `{webhook-id}.{webhook-timestamp}.{body}` keyed with the base64-decoded part of the secret
  after `whsec_`. `webhook-id` is the outbox row's key, the same on every retry; the timestamp
  is the attempt's.
- SSRF: a URL must be http(s) and its host must resolve to public addresses only, unless the
  endpoint allows a private network (an administrator's choice). The check runs when the endpoint
  is saved and again at each send, since DNS can change in between; the request then connects to
  the very address that was checked, so a name that re-resolves between check and connect
  (DNS rebinding) cannot slip through. Redirects are not followed (a 3xx is a failure, as the
  specification says), so a public URL cannot bounce the request inward either.
"""

import base64
import hashlib
import hmac
import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

# Standard Webhooks recommends 15-30 s; a receiver slower than this is retried later.
TIMEOUT_SECONDS = 15
# Enough of an answer to see why it failed; a receiver may send a whole error page.
KEEP_RESPONSE_BYTES = 500
USER_AGENT = "Okno-Webhooks/1"


class UrlRefused(Exception):
    """The URL is not one we send to (reason in args[0], a sentence for the person)."""


def sign(*, secret: str, msg_id: str, timestamp: int, body: str) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{msg_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def _public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved
                                 or ip.is_multicast or ip.is_unspecified)


def url_parts(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of an http(s) URL; raises UrlRefused otherwise."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise UrlRefused("not a valid URL") from exc
    if parts.scheme not in ("http", "https"):
        raise UrlRefused("must be an http:// or https:// URL")
    if not parts.hostname:
        raise UrlRefused("has no host")
    if parts.username or parts.password:
        raise UrlRefused("must not carry a user name or password")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80)


def resolve(host: str, port: int) -> list[str]:
    """The host's addresses (an IP literal is itself); raises UrlRefused when it does not resolve."""
    try:
        return [ipaddress.ip_address(host).compressed]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise UrlRefused(f"host {host} does not resolve") from exc
    return list(dict.fromkeys(info[4][0] for info in infos))


def check_url(url: str, *, allow_private_network: bool, must_resolve: bool) -> str | None:
    """Raises UrlRefused for a URL we must not call; returns the address to connect to, if resolved.

    `must_resolve=False` (saving an endpoint) accepts a name that does not resolve yet: it is
    checked again at each send."""
    _scheme, host, port = url_parts(url)
    if host.lower() == "localhost" or host.lower().endswith(".localhost"):
        if not allow_private_network:
            raise UrlRefused("points at this server (localhost)")
    try:
        addresses = resolve(host, port)
    except UrlRefused:
        if must_resolve:
            raise
        return None
    if not allow_private_network:
        for address in addresses:
            if not _public(ipaddress.ip_address(address.split("%")[0])):
                raise UrlRefused(f"points at a private or reserved address ({address})")
    return addresses[0]


def _connect(address: str, port: int, timeout: float) -> socket.socket:
    sock = socket.create_connection((address, port), timeout)
    # http.client sends the headers and the body in two writes; with Nagle's algorithm the body
    # waits for the receiver's delayed ACK: 40 ms a webhook (50 a second) on a local receiver.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


class _PinnedHTTP(http.client.HTTPConnection):
    """Connects to the address that was checked, whatever the name resolves to now."""

    def __init__(self, host, port, *, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self):
        self.sock = _connect(self._address, self.port, self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, host, port, *, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self):
        sock = _connect(self._address, self.port, self.timeout)
        # The certificate is checked against the URL's host name, not the address.
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


@dataclass
class Answer:
    ok: bool
    status_code: int | None = None
    error: str = ""
    duration_ms: int = 0
    retry_after_seconds: int | None = None
    # The endpoint said it is gone (410): disable it.
    gone: bool = False
    # Not worth retrying by itself (the URL is refused): the message fails at once.
    permanent: bool = False


def _retry_after(value: str | None) -> int | None:
    if value and value.strip().isdigit():
        return int(value.strip())
    return None  # an HTTP date is rare from webhook receivers; the schedule's back-off applies


def post(*, url: str, body: str, headers: dict[str, str], allow_private_network: bool,
         timeout: float = TIMEOUT_SECONDS) -> Answer:
    """One signed POST; never raises."""
    started = time.monotonic()

    def took() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        address = check_url(url, allow_private_network=allow_private_network, must_resolve=True)
    except UrlRefused as exc:
        return Answer(ok=False, error=f"url: {exc.args[0]}", permanent="resolve" not in exc.args[0])
    scheme, host, port = url_parts(url)
    parts = urlsplit(url.strip())
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    cls = _PinnedHTTPS if scheme == "https" else _PinnedHTTP
    conn = cls(host, port, address=address, timeout=timeout)
    try:
        conn.request("POST", target, body=body.encode(), headers={
            "Content-Type": "application/json", "User-Agent": USER_AGENT, **headers})
        response = conn.getresponse()
        text = response.read(KEEP_RESPONSE_BYTES).decode("utf-8", "replace")
        code = response.status
    except (OSError, http.client.HTTPException) as exc:
        return Answer(ok=False, error=f"{type(exc).__name__}: {exc}", duration_ms=took())
    finally:
        conn.close()
    if 200 <= code < 300:
        return Answer(ok=True, status_code=code, duration_ms=took())
    return Answer(ok=False, status_code=code, error=f"HTTP {code}: {text.strip()[:300]}", duration_ms=took(),
                  retry_after_seconds=_retry_after(response.getheader("Retry-After")), gone=code == 410)


def deliver(*, url: str, secret: str, msg_id: str, body: str, allow_private_network: bool,
            timestamp: int | None = None) -> Answer:
    """Signs and sends one webhook message (the drain's unit of work, safe in a thread)."""
    ts = int(time.time()) if timestamp is None else timestamp
    headers = {"webhook-id": msg_id, "webhook-timestamp": str(ts),
               "webhook-signature": sign(secret=secret, msg_id=msg_id, timestamp=ts, body=body)}
    return post(url=url, body=body, headers=headers, allow_private_network=allow_private_network)
