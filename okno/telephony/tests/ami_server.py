"""A local stand-in for Asterisk's AMI port: the banner, Login checked, transcripts replayed.

It speaks the framing of PROTOCOLS.md 3b: the banner line, `Key: Value` CRLF packets ending
with an empty line, `Response: Success`/`Error` echoing the ActionID, Ping, Logoff, Originate.
A session that logs in gets the transcript's events from where the last session stopped, so a
listener that reconnects continues the stream; `drop_after` cuts the first session after that
many events, in the middle of the next one, and `overlap` replays that many events again on the
next session (a stream seen twice must not be stored twice).
"""

import socketserver
import threading
import time
from collections import deque
from collections.abc import Sequence
from pathlib import Path

from okno.telephony.ami import _PACKET_END, Packet, field, packet_format, packet_parse

TRANSCRIPTS = Path(__file__).parent / "ami_transcripts"
BANNER = b"Asterisk Call Manager/5.0.3\r\n"
FULLY_BOOTED = packet_format([("Event", "FullyBooted"), ("Privilege", "system,all"), ("Uptime", "2143"),
                              ("LastReload", "2143"), ("Status", "Fully Booted")])


def transcript(name: str) -> list[bytes]:
    """A transcript file's events as AMI packets (CRLF lines, an empty line after each).

    The files are kept with LF line ends and `#` comment lines on top, for reading; Asterisk
    sends CRLF, which is what the server sends."""
    text = "\n".join(line for line in (TRANSCRIPTS / f"{name}.txt").read_text().splitlines()
                     if not line.startswith("#"))
    return [("\r\n".join(block.strip().splitlines()) + "\r\n\r\n").encode()
            for block in text.split("\n\n") if block.strip()]


def transcript_events(name: str) -> list[Packet]:
    return [packet_parse(p) for p in transcript(name)]


class AmiReplayServer:
    def __init__(self, packets: Sequence[bytes] = (), *, username: str = "okno", secret: str = "s3cret",
                 drop_after: int | None = None, overlap: int = 0, login_limit: int | None = None,
                 refuse_delay: float = 0.0, answer_pings: bool = True):
        self.packets, self.username, self.secret = packets, username, secret
        self.drop_after, self.overlap, self.login_limit = drop_after, overlap, login_limit
        self.refuse_delay = refuse_delay  # Asterisk waits a second before refusing a login
        self.answer_pings = answer_pings  # False: a PBX that hangs without closing the connection
        self.cursor = 0  # the next event to send, across sessions
        self.logins: list[tuple[str, bool]] = []
        self.actions: list[Packet] = []
        self.originate_answers: deque[list[tuple[str, str]]] = deque()
        self.sessions = 0
        # Set once every event was sent, or with `login_limit` once that many logins were tried:
        # a listener's stop.
        self.done = threading.Event()
        self._lock = threading.Lock()
        server = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                server._session(self.request)

        self.tcp = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler, bind_and_activate=False)
        self.tcp.daemon_threads = True
        self.tcp.allow_reuse_address = True
        self.tcp.server_bind()
        self.tcp.server_activate()
        self.port = self.tcp.server_address[1]

    def __enter__(self) -> "AmiReplayServer":
        threading.Thread(target=self.tcp.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.tcp.shutdown()
        self.tcp.server_close()

    def settings(self, **extra) -> dict:
        return {"host": "127.0.0.1", "port": self.port, "username": self.username, "secret": self.secret, **extra}

    def _session(self, sock) -> None:
        sock.sendall(BANNER)
        buf = b""
        while True:
            data = sock.recv(65536)
            if not data:
                return
            buf += data
            while (m := _PACKET_END.search(buf)) is not None:
                packet, buf = packet_parse(buf[:m.start()]), buf[m.end():]
                if not self._answer(sock, packet):
                    return

    def _answer(self, sock, packet: Packet) -> bool:
        """Answers one action; False when the session is over."""
        self.actions.append(packet)
        action, action_id = field(packet, "Action").lower(), field(packet, "ActionID")
        reply = [("Response", "Success"), ("ActionID", action_id)]
        if action == "login":
            ok = field(packet, "Username") == self.username and field(packet, "Secret") == self.secret
            with self._lock:
                self.logins.append((field(packet, "Username"), ok))
                if self.login_limit is not None and len(self.logins) >= self.login_limit:
                    self.done.set()
            if not ok:
                time.sleep(self.refuse_delay)
                sock.sendall(packet_format([("Response", "Error"), ("ActionID", action_id),
                                            ("Message", "Authentication failed")]))
                return False
            sock.sendall(packet_format([*reply, ("Message", "Authentication accepted")]) + FULLY_BOOTED)
            return self._replay(sock)
        if action == "ping":
            if self.answer_pings:
                sock.sendall(packet_format([*reply, ("Ping", "Pong"), ("Timestamp", f"{time.time():.6f}")]))
        elif action == "logoff":
            sock.sendall(packet_format([("Response", "Goodbye"), ("ActionID", action_id),
                                        ("Message", "Thanks for all the fish.")]))
            return False
        elif action == "originate":
            answer = self.originate_answers.popleft() if self.originate_answers else [
                ("Response", "Success"), ("Message", "Originate successfully queued")]
            sock.sendall(packet_format([answer[0], ("ActionID", action_id), *answer[1:]]))
        else:
            sock.sendall(packet_format([("Response", "Error"), ("ActionID", action_id),
                                        ("Message", "Invalid/unknown command")]))
        return True

    def _replay(self, sock) -> bool:
        with self._lock:
            self.sessions += 1
            first = self.sessions == 1
            start = self.cursor if first else max(0, self.cursor - self.overlap)
        end = len(self.packets)
        if first and self.drop_after is not None:
            end = min(end, self.drop_after)
        for i in range(start, end, 500):
            chunk = self.packets[i:min(i + 500, end)]
            sock.sendall(b"".join(chunk))
            self.cursor = i + len(chunk)
        if end < len(self.packets):
            cut = self.packets[end]
            sock.sendall(cut[:len(cut) // 2])  # the connection drops in the middle of an event
            return False
        if self.login_limit is None:  # else the logins count, not the events
            self.done.set()
        return True
