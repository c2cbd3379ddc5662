"""Real mail servers for the e-mail channel's tests: a private Dovecot (IMAP) and aiosmtpd (SMTP).

Dovecot comes from Debian (`scripts/test-services.sh` installs `dovecot-imapd`); each test
session starts its OWN instance on a free 127.0.0.1 port, with a config file, a passwd-file
user and a Maildir under a temporary directory: the system's Dovecot service, if any, is
never touched. Outside CI a missing Dovecot skips these tests loudly; with CI=true it fails.
"""

import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path

import pytest

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
USER, PASSWORD = "okno", "s3cret-imap"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def missing_service(what: str) -> None:
    """Skips loudly on a laptop; fails in CI, where a skipped mail test would hide a broken channel."""
    message = f"{what}: run scripts/test-services.sh (apt-get install dovecot-imapd)"
    if os.environ.get("CI") == "true":
        pytest.fail(message + " -- CI=true, so this is a failure, not a skip", pytrace=False)
    print(f"\n!! {message}; e-mail tests SKIPPED")
    pytest.skip(message)


def _dovecot_conf(root: Path, port: int) -> str:
    """Dovecot 2.3 (Debian bookworm): IMAP only, plain-text login on localhost, no TLS."""
    if os.geteuid() == 0:
        # Dovecot refuses to run mail processes as root; 'nobody' owns the test Maildir.
        mail_user, login_user, internal_user = "nobody", "dovenull", "dovecot"
    else:
        mail_user = login_user = internal_user = pwd.getpwuid(os.geteuid()).pw_name
    mail = pwd.getpwnam(mail_user)
    return f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_login_user = {login_user}
default_internal_user = {internal_user}
first_valid_uid = 1
mail_location = maildir:{root}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={mail.pw_uid} gid={mail.pw_gid} home={root}/mail/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"""


@dataclass
class Dovecot:
    host: str
    port: int
    user: str = USER
    password: str = PASSWORD
    process: subprocess.Popen | None = field(default=None, repr=False)

    def connect(self) -> imaplib.IMAP4:
        imap = imaplib.IMAP4(self.host, self.port, timeout=10)
        imap.login(self.user, self.password)
        return imap

    def deliver(self, folder: str, *raw_messages: bytes) -> None:
        """Puts messages into a folder (created when missing), as a mail server's delivery would."""
        imap = self.connect()
        try:
            imap.create(folder)  # "already exists" is a NO answer, not an exception
            for raw in raw_messages:
                typ, data = imap.append(folder, "", imaplib.Time2Internaldate(time.time()), raw)
                assert typ == "OK", data
        finally:
            imap.logout()

    def recreate(self, folder: str) -> None:
        """Deletes and recreates a folder: new UIDVALIDITY, UIDs start again at 1."""
        imap = self.connect()
        try:
            imap.delete(folder)
            imap.create(folder)
        finally:
            imap.logout()


def dovecot_start(root: Path) -> Dovecot:
    if not os.path.exists(DOVECOT):
        missing_service("Dovecot is not installed")
    port = free_port()
    for sub in ("run", "state", "mail"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    (root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        os.chmod(root, 0o755)
        os.chown(root / "mail", nobody.pw_uid, nobody.pw_gid)
        os.chmod(root / "passwd", 0o644)
    conf = root / "dovecot.conf"
    conf.write_text(_dovecot_conf(root, port))
    process = subprocess.Popen([DOVECOT, "-F", "-c", str(conf)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    server = Dovecot("127.0.0.1", port, process=process)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
            raise RuntimeError(f"dovecot exited: {process.stdout.read().decode()} {log}")
        try:
            server.connect().logout()
            return server
        except OSError:
            time.sleep(0.1)
    dovecot_stop(server)
    raise RuntimeError(f"dovecot did not answer on port {port}")


def dovecot_stop(server: Dovecot) -> None:
    if server.process and server.process.poll() is None:
        server.process.terminate()
        try:
            server.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.process.kill()


class SmtpRecorder:
    """aiosmtpd handler that keeps every message it accepts; `refuse` makes it answer with that code."""

    def __init__(self):
        self.messages: list[dict] = []
        self.refuse: tuple[int, str] | None = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse:
            return f"{self.refuse[0]} {self.refuse[1]}"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append({"from": envelope.mail_from, "to": list(envelope.rcpt_tos), "data": envelope.content})
        return "250 Message accepted for delivery"


def mail(*, sender: str = "Иван Петров <ivan@example.org>", to: str = "sales@okno.test", subject: str = "Вопрос",
         text: str | None = "Здравствуйте!", html: str | None = None, message_id: str | None = "<q1@example.org>",
         headers: dict | None = None, attachments: tuple = (), date: str | None = None) -> bytes:
    """A raw RFC 822 message as a customer's mail client would send it."""
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, to, subject
    msg["Date"] = date or formatdate(localtime=True)
    if message_id:
        msg["Message-ID"] = message_id
    for name, value in (headers or {}).items():
        msg[name] = value
    if text is not None:
        msg.set_content(text)
    if html is not None:
        if text is None:
            msg.set_content(html, subtype="html")
        else:
            msg.add_alternative(html, subtype="html")
    for filename, content_type, data in attachments:
        maintype, subtype = content_type.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes()
