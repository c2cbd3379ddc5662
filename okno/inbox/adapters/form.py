"""Generic web forms: any site posts form-encoded or JSON fields to the channel's URL.

Field names are matched loosely (name/имя, phone/телефон, email/e-mail/почта, message/
comment/сообщение) so a site's existing form works without renaming inputs. A hidden
honeypot field (`website` by default) filled in marks the submission as spam.

Spam and browsers:
- Rate limit: more than `OKNO_FORM_SUBMISSIONS_PER_MINUTE` (or the channel's
  `submissions_per_minute`) submissions a minute from one client address are answered 429 but
  still stored, marked ignored ("rate limited") and without a dedup key, so a real customer's
  submission is never lost: an administrator finds it under "Inbox problems" → ignored and
  processes it again, and the customer's own retry a minute later is accepted as new. Beyond
  twice the limit nothing more is stored (a flood must not fill the database).
- CORS: a page posting JSON from another origin first sends an OPTIONS preflight; the channel
  answers it, and every answer, with Access-Control-Allow-Origin for `settings.allowed_origins`
  (a list; none = any origin). A POST whose Origin header is not allowed is refused.
"""

import hashlib
from email.parser import BytesParser
from email.policy import HTTP
from urllib.parse import parse_qs

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from okno.core.ratelimit import rate_limited
from okno.inbox.adapters.base import ChannelAdapter, Ignored, Malformed, Refused, json_body, ok_response
from okno.inbox.items import InboundItem, Sender

NAME_FIELDS = ("name", "fio", "имя", "фио", "your-name", "first_name")
PHONE_FIELDS = ("phone", "tel", "telephone", "телефон", "your-phone", "mobile")
EMAIL_FIELDS = ("email", "e-mail", "mail", "почта", "your-email")
TEXT_FIELDS = ("message", "comment", "comments", "text", "сообщение", "комментарий", "question", "вопрос")
UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")
PAGE_FIELDS = ("page", "page_url", "url", "referer", "referrer")
SERVICE_FIELDS = {"formid", "formname", "tranid", "test", "cookies", "ip", "_honeypot"}


def _multipart_fields(body: bytes, content_type: str) -> dict[str, str]:
    """multipart/form-data (a plain HTML form with enctype set); files are named, not kept."""
    try:
        message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + content_type.encode("latin-1")
                                                      + b"\r\n\r\n" + body)
    except RecursionError as exc:  # parts nested ~1,000 deep
        raise Malformed(f"multipart body cannot be read: {str(exc)[:200]}") from exc
    if not message.is_multipart():
        raise Malformed("multipart body without parts")
    fields = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name:
            continue
        if part.get_filename():
            fields[name] = f"(file {part.get_filename()})"
            continue
        try:
            fields[name] = part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
        except (UnicodeDecodeError, LookupError, AttributeError) as exc:
            raise Malformed(f"field {name!r} is not readable text: {exc}") from exc
    return fields


def form_fields(body: bytes, full_content_type: str) -> dict[str, str]:
    """The submitted fields as one flat dict of strings, whatever the encoding."""
    content_type = full_content_type.split(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        return _multipart_fields(body, full_content_type)
    if content_type == "application/json":
        data = json_body(body)
        return {str(k): "" if v is None else str(v) for k, v in data.items() if not isinstance(v, (dict, list))}
    if content_type in ("application/x-www-form-urlencoded", ""):
        try:
            parsed = parse_qs(body.decode("utf-8"), keep_blank_values=True)
        except UnicodeDecodeError as exc:
            raise Malformed(f"form body is not UTF-8: {exc}") from exc
        return {k: v[-1] for k, v in parsed.items()}
    raise Malformed(f"unsupported content type {content_type!r}: send form-encoded or JSON")


def _pick(fields: dict[str, str], names: tuple[str, ...]) -> str:
    lowered = {k.lower(): v for k, v in fields.items()}
    for name in names:
        if lowered.get(name, "").strip():
            return lowered[name].strip()
    return ""


def submission_item(fields: dict[str, str], *, thread_id: str, honeypot: str = "website") -> InboundItem:
    if fields.get(honeypot, "").strip():
        raise Ignored("honeypot field filled in: spam")
    name, phone, email = _pick(fields, NAME_FIELDS), _pick(fields, PHONE_FIELDS), _pick(fields, EMAIL_FIELDS)
    if not (name or phone or email):
        raise Malformed("the form has no name, phone or e-mail field")
    known = {*NAME_FIELDS, *PHONE_FIELDS, *EMAIL_FIELDS, *UTM_FIELDS, *PAGE_FIELDS, *SERVICE_FIELDS, honeypot}
    text = _pick(fields, TEXT_FIELDS)
    extra = [f"{k}: {v}" for k, v in fields.items() if k.lower() not in known and k.lower() not in TEXT_FIELDS and v]
    body = "\n".join([text, *extra]).strip()
    return InboundItem(
        conversation_kind="form", thread_id=thread_id, message_id=thread_id,
        sender=Sender(name=name, phones=[phone] if phone else [], emails=[email] if email else []),
        text=body or "(empty form)", subject=fields.get("formname", "") or "",
        utm={k[4:]: fields[k] for k in UTM_FIELDS if fields.get(k)}, page_url=_pick(fields, PAGE_FIELDS),
        meta={"fields": fields},
    )


RATE_LIMITED = "rate limited"


def allowed_origin(request: HttpRequest, channel) -> str | None:
    """The Access-Control-Allow-Origin value for this request, or None when its origin is not allowed."""
    allowed = channel.settings.get("allowed_origins") or []
    if isinstance(allowed, str):
        allowed = [o.strip() for o in allowed.replace(",", " ").split()]
    origin = request.META.get("HTTP_ORIGIN", "")  # META, not headers: that parses every header once
    if not allowed or "*" in allowed:
        return "*"
    return origin if origin.rstrip("/") in {o.rstrip("/") for o in allowed} else None


def _with_cors(response: HttpResponse, request: HttpRequest, channel) -> HttpResponse:
    origin = allowed_origin(request, channel)
    if origin:
        response["Access-Control-Allow-Origin"] = origin
        if origin != "*":
            response["Vary"] = "Origin"
    return response


class FormAdapter(ChannelAdapter):
    kind = "form"
    identity_typed = True  # the visitor's own typing: base.Adapter says why

    def verify(self, request: HttpRequest, channel) -> None:
        if request.META.get("HTTP_ORIGIN") and allowed_origin(request, channel) is None:
            raise Refused("This site may not post to this form", status=403)

    def admit(self, request: HttpRequest, channel) -> str | None:
        """None to accept; a reason to store the submission as ignored; Refused beyond twice the limit."""
        limit = int(channel.settings.get("submissions_per_minute") or settings.OKNO_FORM_SUBMISSIONS_PER_MINUTE)
        client = request.META.get("REMOTE_ADDR", "")
        key = f"form:{channel.token}:{client}"  # token, not pk: SQLite reuses ids after a rollback
        if not rate_limited(key, limit=limit, window_seconds=60):
            return None
        if rate_limited(key + ":over", limit=limit, window_seconds=60):
            raise Refused("Too many submissions; try again in a minute", status=429)
        return f"{RATE_LIMITED}: over {limit} submissions a minute from {client}"

    def preflight(self, request: HttpRequest, channel) -> HttpResponse:
        response = HttpResponse(status=204)
        response["Access-Control-Allow-Methods"] = "POST, OPTIONS"
        response["Access-Control-Allow-Headers"] = "Content-Type"
        response["Access-Control-Max-Age"] = "86400"
        return _with_cors(response, request, channel)

    def dedup_key(self, body: bytes, content_type: str) -> str | None:
        return "sha256:" + hashlib.sha256(body).hexdigest()

    def acknowledge(self, request: HttpRequest, channel, event) -> HttpResponse:
        if event.dedup_key is None and event.error.startswith(RATE_LIMITED):
            response = JsonResponse({"detail": "Too many submissions; try again in a minute"}, status=429)
            response["Retry-After"] = "60"
            return _with_cors(response, request, channel)
        redirect_to = channel.settings.get("redirect_url")
        if redirect_to and "text/html" in request.headers.get("Accept", ""):
            return HttpResponse(status=303, headers={"Location": redirect_to})
        return _with_cors(ok_response(), request, channel)

    def parse(self, body: bytes, content_type: str, channel) -> list[InboundItem]:
        fields = form_fields(body, content_type)
        thread = "form:" + hashlib.sha256(body).hexdigest()[:32]
        return [submission_item(fields, thread_id=thread, honeypot=channel.settings.get("honeypot", "website"))]
