"""Fakes at the network edge for the channel set-up tests: a Bot API answering getMe (and
setWebhook), and a small IMAP server that knows LOGIN, SELECT and LOGOUT. Real sockets on
127.0.0.1, so the checks run their own network code end to end."""

import json
import socketserver
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

GOOD_TOKEN = "123456:AAF-good-token"


class FakeBotApi:
    """getMe answers the bot for GOOD_TOKEN and 401 Unauthorized for any other, as Telegram does."""

    def __init__(self):
        self.requests: list[tuple[str, dict]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                token, _, method = self.path.removeprefix("/bot").partition("/")
                fake.requests.append((method, json.loads(raw or b"{}")))
                if token != GOOD_TOKEN:
                    status, answer = 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
                elif method == "getMe":
                    status, answer = 200, {"ok": True, "result": {
                        "id": 7000000001, "is_bot": True, "first_name": "Магазин", "username": "okno_shop_bot"}}
                else:
                    status, answer = 200, {"ok": True, "result": True, "description": "Webhook was set"}
                body = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> "FakeBotApi":
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class FakeImap:
    """Just enough IMAP4rev1 for a login check: CAPABILITY, LOGIN, SELECT/EXAMINE, LOGOUT."""

    def __init__(self, *, user: str = "sales@okno.test", password: str = "imap-pass", folders=("INBOX",)):
        fake = self
        self.logins: list[str] = []

        class Handler(socketserver.StreamRequestHandler):
            def reply(self, text: str) -> None:
                self.wfile.write(text.encode() + b"\r\n")

            def handle(self):
                self.reply("* OK fake IMAP ready")
                for raw in self.rfile:
                    parts = raw.decode().strip().split(" ")
                    tag, command, args = parts[0], parts[1].upper() if len(parts) > 1 else "", parts[2:]
                    if command == "CAPABILITY":
                        self.reply("* CAPABILITY IMAP4rev1 AUTH=PLAIN")
                        self.reply(f"{tag} OK done")
                    elif command == "LOGIN":
                        given = [a.strip('"') for a in args]
                        fake.logins.append(given[0])
                        if given == [user, password]:
                            self.reply(f"{tag} OK logged in")
                        else:
                            self.reply(f"{tag} NO [AUTHENTICATIONFAILED] Authentication failed.")
                    elif command in ("SELECT", "EXAMINE"):
                        if args and args[0].strip('"') in folders:
                            self.reply("* 3 EXISTS")
                            self.reply("* OK [UIDVALIDITY 7] ok")
                            self.reply(f"{tag} OK [READ-ONLY] done")
                        else:
                            self.reply(f"{tag} NO Mailbox doesn't exist")
                    elif command == "LOGOUT":
                        self.reply("* BYE")
                        self.reply(f"{tag} OK bye")
                        return
                    else:
                        self.reply(f"{tag} BAD unknown")

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]

    def start(self) -> "FakeImap":
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
