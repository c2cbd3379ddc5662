""""Test connection" on a channel's page: asks the provider whether the stored settings work.

Each check is synchronous with a short timeout per network step (CHECK_TIMEOUT_SECONDS): the
administrator waits for the answer on the page, at worst a few of those timeouts (e-mail: IMAP,
then SMTP). Nothing is written: a check never changes the channel or the provider's side.

The inbox's kinds are checked here; the PBX kinds register theirs (okno/telephony/channel_checks.py).
A result is (ok, text), the text in plain words and never carrying a token or a password.
"""

import imaplib
import json
import smtplib
import socket
import ssl
import urllib.error
import urllib.request
from collections.abc import Callable

from django.utils.translation import gettext as _

from okno.inbox.adapters import telegram

CHECK_TIMEOUT_SECONDS = 5.0

Check = Callable[[object], tuple[bool, str]]
_checks: dict[str, Check] = {}


def register_check(kind: str, check: Check) -> None:
    _checks[kind] = check


def can_check(kind: str) -> bool:
    return kind in _checks


def channel_check(channel) -> tuple[bool, str]:
    check = _checks.get(channel.kind)
    if check is None:
        return False, _("This kind of channel has no connection test.")
    try:
        return check(channel)
    except Exception as exc:  # a check must answer in words, never with a 500
        return False, _("The test failed: %(error)s") % {"error": _scrub(str(exc), channel)}


def _scrub(text: str, channel) -> str:
    """The text without any secret of the channel (an error may quote a URL with the bot token)."""
    from okno.inbox.channel_forms import secret_keys

    for key in secret_keys(channel.kind):
        value = str(channel.settings.get(key) or "")
        if len(value) >= 4:
            text = text.replace(value, "…")
    return text[:300]


def telegram_check(channel) -> tuple[bool, str]:
    """getMe with the stored token: the bot's @name, or what Telegram said."""
    token = str(channel.settings.get("bot_token") or "")
    if not token:
        return False, _("No bot token: enter the one @BotFather gave.")
    request = urllib.request.Request(f"{telegram.api_base()}/bot{token}/getMe", method="POST",
                                     data=b"{}", headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=CHECK_TIMEOUT_SECONDS) as response:
            raw = response.read(100_000)
    except urllib.error.HTTPError as exc:
        description = _bot_api_description(exc.read(2000))
        if exc.code in (401, 404):
            return False, _("Telegram does not know this token (%(answer)s): copy it again from @BotFather.") % {
                "answer": description or exc.code}
        return False, _("Telegram answered %(status)s: %(answer)s") % {"status": exc.code, "answer": description}
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return False, _("Telegram is not reachable from the server: %(reason)s") % {
            "reason": _scrub(str(reason), channel)}
    try:
        answer = json.loads(raw)
        bot = answer["result"]
        username = bot["username"]
    except (ValueError, KeyError, TypeError):
        return False, _("Telegram's answer is not what the Bot API sends.")
    return True, _("OK: bot @%(username)s (%(name)s)") % {"username": username, "name": bot.get("first_name", "")}


def _bot_api_description(raw: bytes) -> str:
    try:
        return str(json.loads(raw).get("description", ""))[:200]
    except (ValueError, AttributeError):
        return ""


def email_check(channel) -> tuple[bool, str]:
    """IMAP: connect, log in, open the folder; then SMTP, when set: connect, TLS, log in."""
    from okno.inbox.mailbox import _connect, _quoted

    s = {**channel.settings, "imap_timeout": CHECK_TIMEOUT_SECONDS}
    host, folder = s.get("imap_host"), s.get("imap_folder") or "INBOX"
    if not host or not s.get("imap_user"):
        return False, _("Enter the IMAP server and login first.")
    try:
        imap = _connect(s)
    except (OSError, imaplib.IMAP4.error) as exc:
        return False, _("IMAP: cannot connect to %(host)s: %(error)s") % {"host": host, "error": _net_error(exc)}
    try:
        try:
            imap.login(s["imap_user"], s.get("imap_password", ""))
        except imaplib.IMAP4.error as exc:
            return False, _("IMAP: %(host)s refused the login: %(error)s") % {"host": host, "error": _imap_text(exc)}
        if not folder.isascii():
            return False, _("IMAP: the folder name %(folder)s is not an IMAP name: use Latin letters.") % {
                "folder": folder}
        typ, data = imap.select(_quoted(folder), readonly=True)
        if typ != "OK":
            return False, _("IMAP: no folder %(folder)s: %(error)s") % {"folder": folder, "error": _imap_text(data)}
        count = int((data or [b"0"])[0] or 0)
    except (OSError, imaplib.IMAP4.error) as exc:
        return False, _("IMAP: %(error)s") % {"error": _net_error(exc)}
    finally:
        try:
            imap.logout()
        except (OSError, imaplib.IMAP4.error):
            pass
    text = _("IMAP OK: %(folder)s holds %(count)d letters.") % {"folder": folder, "count": count}
    if not s.get("smtp_host"):
        return True, text + " " + _("No SMTP server: replies cannot be sent.")
    ok, smtp_text = _smtp_check(s)
    return ok, f"{text} {smtp_text}"


def _smtp_check(s: dict) -> tuple[bool, str]:
    use_ssl = bool(s.get("smtp_ssl"))
    starttls = s.get("smtp_starttls", not use_ssl)
    host = s["smtp_host"]
    port = int(s.get("smtp_port") or (465 if use_ssl else 587 if starttls else 25))
    try:
        if use_ssl:
            client = smtplib.SMTP_SSL(host, port, timeout=CHECK_TIMEOUT_SECONDS, context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(host, port, timeout=CHECK_TIMEOUT_SECONDS)
    except (OSError, smtplib.SMTPException) as exc:
        return False, _("SMTP: cannot connect to %(host)s:%(port)s: %(error)s") % {
            "host": host, "port": port, "error": _net_error(exc)}
    try:
        with client:
            if starttls and not use_ssl:
                client.starttls(context=ssl.create_default_context())
            if s.get("smtp_user"):
                client.login(s["smtp_user"], s.get("smtp_password", ""))
    except smtplib.SMTPAuthenticationError as exc:
        return False, _("SMTP: %(host)s refused the login: %(error)s") % {"host": host, "error": _smtp_text(exc)}
    except smtplib.SMTPNotSupportedError as exc:
        return False, _("SMTP: %(host)s does not support it: %(error)s") % {"host": host, "error": exc}
    except smtplib.SMTPResponseException as exc:
        return False, _("SMTP: %(host)s answered %(error)s") % {"host": host, "error": _smtp_text(exc)}
    except (OSError, smtplib.SMTPException) as exc:
        return False, _("SMTP: %(error)s") % {"error": _net_error(exc)}
    return True, _("SMTP OK: %(host)s accepted the login.") % {"host": host} if s.get("smtp_user") else \
        _("SMTP OK: %(host)s answers.") % {"host": host}


def _net_error(exc: BaseException) -> str:
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return _("no answer within %(seconds)d s") % {"seconds": CHECK_TIMEOUT_SECONDS}
    if isinstance(exc, ConnectionRefusedError):
        return _("connection refused")
    if isinstance(exc, socket.gaierror):
        return _("no such host")
    if isinstance(exc, ssl.SSLError):
        return _("TLS failed (%(reason)s): check the port and the SSL setting") % {"reason": exc.reason or exc}
    return str(exc)[:200] or type(exc).__name__


def _imap_text(value) -> str:
    if isinstance(value, BaseException):
        value = value.args[0] if value.args else str(value)
    if isinstance(value, list):
        value = b" ".join(v for v in value if isinstance(v, bytes))
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return str(value)[:200]


def _smtp_text(exc: smtplib.SMTPResponseException) -> str:
    error = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
    return f"{exc.smtp_code} {error}"[:200]


register_check("telegram", telegram_check)
register_check("email", email_check)
