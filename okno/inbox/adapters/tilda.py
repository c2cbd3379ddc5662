"""Tilda forms: the site builder's "Webhook" form service (PROTOCOLS.md section 9).

Tilda POSTs the form's fields form-encoded, named as the form's variables in the editor
(commonly `Name`, `Phone`, `Email`, hidden UTM fields), and wants 200 within 5 seconds, else it
tries twice more a minute apart. So the answer is built without waiting for anything, and a
retry is recognised by Tilda's submission id `tranid` (dedup key `tilda:<tranid>`).

On adding the webhook Tilda sends a probe, the body `test=test`, and needs 200. We store it
under the fixed dedup key `tilda:test` (so any number of probes keep one row) and the worker
marks it ignored: it shows on the channel's page as proof that Tilda reached us, and it never
becomes a card or a lead.

UNVERIFIED (integrators' usage, not Tilda's own text): the service fields `tranid`, `formid`,
`formname`, the `COOKIES` field with Tilda's `TILDAUTM` cookie, JSON mode, and the optional
API key. For the key, Tilda's settings take a parameter name and value; we accept it as a
header or a body field of that name (`settings.api_key_name`, `settings.api_key`).
"""

import hashlib
import hmac
from urllib.parse import parse_qs, unquote

from django.http import HttpRequest, HttpResponse

from okno.inbox.adapters.base import ChannelAdapter, Ignored, Malformed, Refused
from okno.inbox.adapters.form import UTM_FIELDS, form_fields, submission_item
from okno.inbox.items import InboundItem

PROBE = {"test": "test"}


def _is_probe(body: bytes) -> bool:
    try:
        return {k: v[-1] for k, v in parse_qs(body.decode("utf-8"), keep_blank_values=True).items()} == PROBE
    except UnicodeDecodeError:
        return False


def _fields_or_empty(body: bytes, content_type: str) -> dict[str, str]:
    try:
        return form_fields(body, content_type)
    except Malformed:  # still stored: the worker marks it rejected
        return {}


def tilda_utm(fields: dict[str, str]) -> dict[str, str]:
    """UTM from hidden utm_* fields, else from the TILDAUTM cookie sent in COOKIES (UNVERIFIED format:
    `utm_source=x|||utm_medium=y|||`, URL-encoded inside the cookie string)."""
    utm = {k[4:]: fields[k] for k in UTM_FIELDS if fields.get(k)}
    if utm:
        return utm
    cookies = fields.get("COOKIES") or fields.get("cookies") or ""
    for part in cookies.split(";"):
        name, _sep, value = part.strip().partition("=")
        if name == "TILDAUTM":
            for pair in unquote(value).split("|||"):
                key, _sep, val = pair.partition("=")
                if key in UTM_FIELDS and val:
                    utm[key[4:]] = val
    return utm


class TildaAdapter(ChannelAdapter):
    kind = "tilda"
    identity_typed = True  # the visitor's own typing: base.Adapter says why

    def verify(self, request: HttpRequest, channel) -> None:
        key, name = channel.settings.get("api_key", ""), channel.settings.get("api_key_name", "")
        if not (key and name) or _is_probe(request.body):
            return  # no key configured; the probe is stored once and ignored, so it needs none
        fields = _fields_or_empty(request.body, request.META.get("CONTENT_TYPE", ""))
        given = request.headers.get(name) or fields.get(name, "")
        if not hmac.compare_digest(str(given).encode(), str(key).encode()):
            raise Refused("Wrong API key", status=403)

    def dedup_key(self, body: bytes, content_type: str) -> str | None:
        if _is_probe(body):
            return "tilda:test"
        tranid = _fields_or_empty(body, content_type).get("tranid", "").strip()
        return f"tilda:{tranid}"[:255] if tranid else "sha256:" + hashlib.sha256(body).hexdigest()

    def event_type(self, body: bytes, content_type: str) -> str:
        return "test" if _is_probe(body) else "form"

    def acknowledge(self, request: HttpRequest, channel, event) -> HttpResponse:
        # Tilda reads only the status; a short text body keeps its webhook log readable.
        return HttpResponse("ok", content_type="text/plain")

    def parse(self, body: bytes, content_type: str, channel) -> list[InboundItem]:
        if _is_probe(body):
            raise Ignored("Tilda's test request (test=test)")
        fields = form_fields(body, content_type)
        if fields == PROBE:  # the probe in another encoding (multipart, JSON)
            raise Ignored("Tilda's test request (test=test)")
        api_key_name = channel.settings.get("api_key_name", "")
        if api_key_name:
            fields.pop(api_key_name, None)  # a secret, not something the customer told us
        tranid = fields.get("tranid", "").strip()
        thread = f"tilda:{tranid}" if tranid else "tilda:" + hashlib.sha256(body).hexdigest()[:32]
        item = submission_item(fields, thread_id=thread[:255], honeypot=channel.settings.get("honeypot", "website"))
        item.utm = tilda_utm(fields)
        item.meta["fields"] = {k: v for k, v in fields.items() if k not in ("COOKIES", "cookies")}
        if fields.get("formid"):
            item.meta["formid"] = fields["formid"]
        return [item]
