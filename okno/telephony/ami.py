"""The Asterisk Manager Interface (AMI) on the wire: framing, a connection, Login, Originate.

Wire format: ../shared/PROTOCOLS.md section 3b (docs.asterisk.org "AMI Command Syntax",
asterisk/asterisk:main/manager.c). TCP, port 5038 by default. On connect Asterisk sends one
banner line, `Asterisk Call Manager/<version>`, not followed by an empty line. After that every
packet is `Key: Value` lines ending with an empty line, CRLF throughout (we also take bare LF).
A client's packet starts with `Action:`, Asterisk's with `Response:` or `Event:`. Keys may repeat
(`ChanVariable`, `Variable`): a repeated key becomes a list of its values, in order.

Login is plain (`Username`/`Secret`); a wrong secret is answered `Response: Error`, `Message:
Authentication failed` (after a second's pause) and the session is closed. `Events:` in the
Login sets which event classes the session receives (manager.c `authenticate` calls
`set_eventmask` with it). The MD5 challenge login is not used.

This module has no Django: the listener (okno.telephony.ami_listener) and the adapter's
originate (okno.telephony.adapters.asterisk) build on it.
"""

import re
import socket
import time
from collections.abc import Callable, Iterable

BANNER = "Asterisk Call Manager/"
# Asterisk ends a packet with an empty line: CRLF CRLF; some proxies and test tools send LF.
_PACKET_END = re.compile(rb"\r?\n\r?\n")
# A packet longer than this without its empty line is not AMI (a wrong port, an HTTP server).
MAX_PACKET_BYTES = 1 << 20

Packet = dict[str, str | list[str]]


class AmiError(Exception):
    """The connection failed, closed, timed out or spoke something other than AMI."""


class AmiRefused(AmiError):
    """Asterisk answered an action with `Response: Error` (a wrong secret, a bad Originate)."""

    def __init__(self, action: str, message: str):
        super().__init__(f"{action} refused: {message or 'no message'}")
        self.action, self.message = action, message


def packet_parse(raw: bytes) -> Packet:
    """One packet's lines -> its fields; a repeated key keeps every value, in order."""
    packet: Packet = {}
    for line in raw.decode("utf-8", errors="replace").splitlines():
        key, sep, value = line.partition(":")
        if not sep:
            continue  # not a field (the text of a `Response: Follows`): nothing we read
        key, value = key.strip(), value.strip()
        if key in packet:
            old = packet[key]
            packet[key] = [*old, value] if isinstance(old, list) else [old, value]
        else:
            packet[key] = value
    return packet


def packet_format(fields: Iterable[tuple[str, str]]) -> bytes:
    """(key, value) pairs -> one packet; a key may repeat (Originate's `Variable`)."""
    lines = []
    for key, value in fields:
        value = str(value)
        if "\r" in value or "\n" in value:
            raise ValueError(f"AMI field {key} may not contain a line break")
        lines.append(f"{key}: {value}\r\n")
    return ("".join(lines) + "\r\n").encode()


def field(packet: Packet, key: str) -> str:
    """A field as one string: the last of a repeated key, "" when absent."""
    value = packet.get(key, "")
    return value[-1] if isinstance(value, list) else value


class AmiConnection:
    """One TCP session with Asterisk: the banner, then packets both ways."""

    def __init__(self, host: str, port: int = 5038, *, timeout: float = 10.0):
        self.host, self.port, self.timeout = host, port, timeout
        self.sock: socket.socket | None = None
        self.banner = ""
        self._buf = b""
        self._pending: list[Packet] = []  # read past an awaited response, not yet handed out
        self._action = 0

    def connect(self) -> str:
        """Opens the session and reads the banner; returns it (e.g. "Asterisk Call Manager/5.0.3")."""
        try:
            self.sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            # A PBX that vanishes without a FIN (power, network) is found by the Ping keep-alive;
            # TCP keep-alive is a second net for idle hours.
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
            deadline = time.monotonic() + self.timeout
            while b"\n" not in self._buf:
                if time.monotonic() > deadline or len(self._buf) > 4096:
                    raise AmiError(f"no AMI banner from {self.host}:{self.port}")
                self._recv()
        except OSError as exc:
            self.close()
            raise AmiError(f"cannot reach {self.host}:{self.port}: {exc}") from exc
        except AmiError:
            self.close()
            raise
        line, _, self._buf = self._buf.partition(b"\n")
        self.banner = line.decode("utf-8", errors="replace").strip()
        if not self.banner.startswith(BANNER):
            self.close()
            raise AmiError(f"{self.host}:{self.port} is not AMI (it said {self.banner[:80]!r})")
        return self.banner

    def _recv(self) -> None:
        data = self.sock.recv(65536)
        if not data:
            raise AmiError("Asterisk closed the connection")
        self._buf += data

    def next_action_id(self, prefix: str = "okno") -> str:
        self._action += 1
        return f"{prefix}-{self._action}"

    def send(self, action: str, fields: Iterable[tuple[str, str]] = (), *, action_id: str = "") -> str:
        """Sends an action; returns its ActionID (the response echoes it)."""
        action_id = action_id or self.next_action_id()
        data = packet_format([("Action", action), ("ActionID", action_id), *fields])
        try:
            self.sock.sendall(data)
        except OSError as exc:
            raise AmiError(f"sending {action} failed: {exc}") from exc
        return action_id

    def read(self, timeout: float | None = None) -> list[Packet]:
        """Every complete packet that has arrived, waiting up to `timeout` for the first one.

        Returns [] when nothing arrived in time; raises AmiError when the connection closed.
        A packet cut by a dropped connection is never returned: it has no empty line yet.
        """
        if self._pending:
            packets, self._pending = self._pending, []
            return packets
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while not (packets := self._complete()):
            left = deadline - time.monotonic()
            if left <= 0:
                return []
            self.sock.settimeout(left)
            try:
                self._recv()
            except TimeoutError:
                return []
            except OSError as exc:
                raise AmiError(f"reading from {self.host}:{self.port} failed: {exc}") from exc
        return packets

    def _complete(self) -> list[Packet]:
        packets, pos = [], 0
        buf = self._buf
        while (m := _PACKET_END.search(buf, pos)) is not None:
            if m.start() > pos:
                packets.append(packet_parse(buf[pos:m.start()]))
            pos = m.end()
        self._buf = buf[pos:]
        if len(self._buf) > MAX_PACKET_BYTES:
            raise AmiError("a packet over 1 MB without its end: not AMI")
        return packets

    def response(self, action_id: str, *, timeout: float | None = None,
                 on_event: Callable[[Packet], None] | None = None) -> Packet:
        """Reads until the response to `action_id`; events met on the way go to `on_event`."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AmiError(f"no response to {action_id} in time")
            packets = self.read(timeout=left)
            for i, packet in enumerate(packets):
                if "Response" in packet and field(packet, "ActionID") == action_id:
                    self._pending = packets[i + 1:] + self._pending  # what came after is the caller's
                    return packet
                if on_event is not None and "Event" in packet:
                    on_event(packet)

    def close(self) -> None:
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
            self.sock = None


def ami_login(conn: AmiConnection, *, username: str, secret: str, events: str = "off") -> None:
    """Plain Login; raises AmiRefused with Asterisk's message when it says Error.

    `events` is the classes this session wants (`call,cdr` for the call flow; `off` for a
    session that only sends actions, so no event comes between an action and its response).
    """
    action_id = conn.send("Login", [("Username", username), ("Secret", secret), ("Events", events)])
    answer = conn.response(action_id)
    if field(answer, "Response").lower() != "success":
        raise AmiRefused("Login", field(answer, "Message"))


def ami_logoff(conn: AmiConnection, *, on_event: Callable[[Packet], None] | None = None) -> None:
    """Says goodbye (Asterisk answers `Response: Goodbye` and closes) and closes; never raises.

    Events still arriving before the goodbye go to `on_event`, so a listener stopping keeps them.
    """
    try:
        if conn.sock is not None:
            conn.response(conn.send("Logoff"), timeout=1.0, on_event=on_event)
    except AmiError:
        pass
    finally:
        conn.close()
