"""E-mail: a mailbox polled over IMAP (okno.inbox.mailbox), replies sent over SMTP.

The stored InboundEvent body is the raw RFC 822 message exactly as the IMAP server returned
it. Threading follows the headers every mail client keeps (RFC 5322 section 3.6.4):
- the thread id is the first id in `References` (the root of the chain), else `In-Reply-To`,
  else the message's own `Message-ID`; so a thread is found the same whichever of its
  messages arrives first, and a reply to an unknown root still starts one conversation;
- every id in `References`/`In-Reply-To` is also handed to the core as `thread_refs`: when one
  of them is a message we already recorded (an operator's reply, whose Message-ID we chose),
  the mail joins that conversation even when a client trimmed the chain;
- a message without a Message-ID gets `sha256:<hash of the raw bytes>`, stable across re-fetches.
Automatic mail (Auto-Submitted other than "no", Precedence bulk/junk/list, vacation
headers) is recorded in its thread but never opens a lead; a delivery report (bounce) joins
the conversation of the message it reports on when that was ours, and is ignored otherwise,
so MAILER-DAEMON never becomes a customer card. Mail from the channel's own address (a copy
of an operator's answer) is recorded as outbound.
"""

import email
import email.policy
import hashlib
import html as html_lib
import re
import smtplib
import ssl
from datetime import timedelta
from email.message import EmailMessage, Message
from email.utils import formataddr, getaddresses, parsedate_to_datetime

import nh3
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone
from django.utils.text import get_valid_filename

from okno.inbox.adapters.base import ChannelAdapter, Ignored, Malformed, SendFailed
from okno.inbox.items import InboundItem, Sender

MSGID = re.compile(r"<[^<>\s]+>")
AUTO_PRECEDENCE = {"bulk", "junk", "list", "auto_reply"}
BOUNCE_SENDERS = ("mailer-daemon@", "postmaster@")
# Our outbound Message-IDs carry this marker, so a bounce can tell our mail from anyone's.
OUR_MARK = ".okno@"
CLOCK_SKEW = timedelta(minutes=10)
BLOCK_END = re.compile(r"(?i)<(br\s*/?|/p|/div|/li|/tr|/h[1-6]|/blockquote)\b[^>]*>")


def _ids(value) -> list[str]:
    return MSGID.findall(str(value or ""))


def message_key(raw: bytes) -> str:
    """The message's own id: its Message-ID, or a hash of the raw bytes when it has none."""
    found = _ids(_header_block(raw).get("Message-ID"))
    return found[0] if found else "sha256:" + hashlib.sha256(raw).hexdigest()


def dedup_key_for(raw: bytes) -> str:
    key = "email:" + message_key(raw)
    return key if len(key) <= 255 else "email:sha256:" + hashlib.sha256(key.encode()).hexdigest()


def _header_block(raw: bytes) -> Message:
    return email.message_from_bytes(raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0], policy=email.policy.compat32)


def html_sanitise(html: str) -> str:
    """Ammonia's allow-list: no script, style, event handlers or javascript: links."""
    return nh3.clean(html)


def html_to_text(html: str) -> str:
    text = html_lib.unescape(nh3.clean(BLOCK_END.sub("\n", html), tags=set()))
    return re.sub(r"\n{3,}", "\n\n", re.sub(r"[ \t]+", " ", text)).strip()


def _decoded(part: Message) -> str:
    try:
        return part.get_content()
    except (LookupError, UnicodeError, AssertionError):  # an unknown or lying charset
        return (part.get_payload(decode=True) or b"").decode("utf-8", errors="replace")


def _address(value) -> tuple[str, str]:
    pairs = [(name, addr) for name, addr in getaddresses([str(value or "")]) if "@" in addr]
    return (pairs[0][0].strip(), pairs[0][1].strip().lower()) if pairs else ("", "")


def is_automatic(msg: Message) -> bool:
    auto = str(msg.get("Auto-Submitted", "no")).strip().lower()
    precedence = str(msg.get("Precedence", "")).strip().lower()
    return (auto != "no" or precedence in AUTO_PRECEDENCE or bool(msg.get("X-Autoreply"))
            or bool(msg.get("X-Autorespond")) or is_bounce(msg))


def is_bounce(msg: Message) -> bool:
    sender = _address(msg.get("From"))[1]
    return msg.get_content_type() == "multipart/report" or sender.startswith(BOUNCE_SENDERS)


def _reported_ids(msg: Message) -> list[str]:
    """The ids of the message a delivery report is about (its attached original or headers)."""
    for part in msg.walk():
        if part.get_content_type() in ("message/rfc822", "text/rfc822-headers", "message/rfc822-headers"):
            payload = part.get_payload()
            inner = payload[0] if isinstance(payload, list) else _header_block(_decoded(part).encode())
            return [*_ids(inner.get("References")), *_ids(inner.get("In-Reply-To")), *_ids(inner.get("Message-ID"))]
    return []


def _attachments(msg: Message, body_parts: set[int], channel_id: int) -> list[dict]:
    """Stores every non-body part with Django's default storage, under a content-addressed path."""
    stored = []
    for index, part in enumerate(msg.walk()):
        if part.is_multipart() or id(part) in body_parts:
            continue
        if part.get_content_maintype() == "text" and not part.get_filename() and part.get_content_disposition() \
                != "attachment":
            continue
        data = part.get_payload(decode=True) or b""
        digest = hashlib.sha256(data).hexdigest()
        name = part.get_filename() or f"part-{index}.{part.get_content_subtype()}"
        try:
            safe = get_valid_filename(name)[-100:]
        except Exception:  # a name of only dots or slashes
            safe = f"part-{index}"
        path = f"inbox/email/{channel_id}/{digest[:2]}/{digest[:32]}/{safe}"
        if not default_storage.exists(path):
            path = default_storage.save(path, ContentFile(data))
        stored.append({"name": name, "size": len(data), "content_type": part.get_content_type(), "path": path,
                       "content_id": str(part.get("Content-ID", "")).strip("<> ")})
    return stored


def _own_addresses(channel) -> set[str]:
    s = channel.settings
    own = {_address(s.get("smtp_from"))[1], str(s.get("imap_user", "")).lower()}
    return {a for a in own if "@" in a}


class EmailAdapter(ChannelAdapter):
    kind = "email"
    required_settings = ("imap_host", "imap_user", "imap_password")
    can_reply = True

    def dedup_key(self, body: bytes, content_type: str) -> str | None:
        return dedup_key_for(body)

    def event_type(self, body: bytes, content_type: str) -> str:
        return "email"

    def parse(self, body: bytes, content_type: str, channel) -> list[InboundItem]:
        try:
            msg = email.message_from_bytes(body, policy=email.policy.default)
        except Exception as exc:  # the parser is lenient; this is a truly broken byte string
            raise Malformed(f"not an RFC 822 message: {exc}") from exc
        own_id = message_key(body)
        references, in_reply_to = _ids(msg.get("References")), _ids(msg.get("In-Reply-To"))
        name, address = _address(msg.get("From"))
        automatic = is_automatic(msg)
        if is_bounce(msg):
            reported = _reported_ids(msg)
            if not any(OUR_MARK in ref for ref in reported):
                raise Ignored("a delivery report about mail Okno did not send")
            references, in_reply_to, address = [*reported, *references], in_reply_to, ""
        elif not address:
            raise Malformed("no sender address in From")
        refs = [*references, *in_reply_to]
        thread_id = (references or in_reply_to or [own_id])[0]
        plain = msg.get_body(preferencelist=("plain",))
        rich = msg.get_body(preferencelist=("html",))
        html = html_sanitise(_decoded(rich)).strip() if rich is not None else ""
        text = _decoded(plain).strip() if plain is not None else (html_to_text(_decoded(rich)) if rich else "")
        body_parts = {id(p) for p in (plain, rich) if p is not None}
        attachments = _attachments(msg, body_parts, channel.pk)
        subject = str(msg.get("Subject", "")).strip()
        outbound = address in _own_addresses(channel)
        if not text and not html:
            text = "(attachments only)" if attachments else "(empty message)"
        try:
            occurred_at = parsedate_to_datetime(str(msg["Date"])) if msg["Date"] else None
        except (TypeError, ValueError):
            occurred_at = None
        # The sender's clock: trusted for order, except when it is naive or claims the future.
        if occurred_at is not None and (occurred_at.tzinfo is None or occurred_at > timezone.now() + CLOCK_SKEW):
            occurred_at = None
        reply_to = _address(msg.get("Reply-To"))[1] or address
        to = [a.lower() for _n, a in getaddresses([str(msg.get("To", ""))]) if "@" in a]
        if outbound:  # the customer of a copy of our own mail is whom it was sent to
            customer = [a for a in to if a not in _own_addresses(channel)][:1]
        else:  # a bounce has no address here: MAILER-DAEMON must not take over the thread's card
            customer = [address] if address else []
        return [InboundItem(
            conversation_kind="email", thread_id=thread_id[:255], message_id=own_id[:255],
            sender=Sender(name="" if outbound else name, emails=customer),
            direction="out" if outbound else "in", text=text, html=html, subject=subject,
            author_name=name or address, occurred_at=occurred_at, opens_lead=not automatic and not outbound,
            thread_refs=[r[:255] for r in refs],
            meta={"message_id": own_id, "references": refs[-20:], "from_email": address, "reply_to": reply_to,
                  "to": to, "attachments": attachments, "automatic": automatic},
        )]

    def send(self, channel, conversation, message) -> str:
        s = channel.settings
        if not s.get("smtp_host"):
            raise SendFailed("the channel has no smtp_host: it cannot send replies", retry=False)
        last_in = conversation.messages.filter(direction="in").exclude(meta__automatic=True).order_by(
            "-sent_at", "-id").first()
        to = last_in.meta.get("reply_to") if last_in else ""
        if not to:
            primary = conversation.contact.emails.order_by("id").first()
            to = primary.email if primary else ""
        if not to:
            raise SendFailed("the customer has no e-mail address", retry=False)
        sender = s.get("smtp_from") or s.get("imap_user")
        domain = _address(sender)[1].split("@")[-1] or "okno.invalid"
        # Derived from the row, not random: a retry after a lost answer sends the same Message-ID.
        own_id = f"<{message.external_id.replace('okno:', '')}.{message.pk}{OUR_MARK}{domain}>"
        if not message.external_id.startswith("okno:"):
            own_id = message.external_id
        mime = EmailMessage()
        mime["From"] = formataddr((s.get("smtp_from_name") or channel.name, _address(sender)[1] or sender))
        mime["To"] = to
        subject = conversation.subject or channel.name
        mime["Subject"] = subject if subject.lower().startswith(("re:", "ответ:")) else f"Re: {subject}"
        mime["Message-ID"] = own_id
        mime["Date"] = email.utils.format_datetime(message.sent_at)
        if last_in is not None and last_in.external_id.startswith("<"):
            chain = [r for r in last_in.meta.get("references", []) if r != last_in.external_id]
            mime["In-Reply-To"] = last_in.external_id
            # RFC 5322 3.6.4: keep the root and the most recent ids when the chain grows long.
            chain = [*chain, last_in.external_id]
            mime["References"] = " ".join(chain if len(chain) <= 10 else [chain[0], *chain[-9:]])
        mime.set_content(message.text)
        _smtp_send(s, mime)
        return own_id


def _smtp_send(s: dict, mime: EmailMessage) -> None:
    use_ssl = bool(s.get("smtp_ssl"))
    starttls = s.get("smtp_starttls", not use_ssl)
    port = int(s.get("smtp_port") or (465 if use_ssl else 587 if starttls else 25))
    timeout = float(s.get("smtp_timeout", 30))
    try:
        if use_ssl:
            client = smtplib.SMTP_SSL(s["smtp_host"], port, timeout=timeout, context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(s["smtp_host"], port, timeout=timeout)
        with client:
            if starttls and not use_ssl:
                client.starttls(context=ssl.create_default_context())
            if s.get("smtp_user"):
                client.login(s["smtp_user"], s.get("smtp_password", ""))
            client.send_message(mime)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _msg in exc.recipients.values()]
        raise SendFailed(f"recipient refused: {exc.recipients}", retry=all(400 <= c < 500 for c in codes)) from exc
    except smtplib.SMTPResponseException as exc:
        raise SendFailed(f"SMTP {exc.smtp_code}: {exc.smtp_error!r}", retry=400 <= exc.smtp_code < 500) from exc
    except smtplib.SMTPNotSupportedError as exc:
        raise SendFailed(f"SMTP server does not support it: {exc}", retry=False) from exc
    except (smtplib.SMTPException, OSError) as exc:  # refused, reset, timed out: try later
        raise SendFailed(f"SMTP connection: {exc}", retry=True) from exc
