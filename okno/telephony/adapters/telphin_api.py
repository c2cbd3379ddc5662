"""Telphin's REST API (apiproxy.telphin.ru): an OAuth2 token, click-to-call and recordings.

Sources (partly verified; PROTOCOLS.md 4c covers only the events):
- Token: `POST /oauth/token` with grant_type=client_credentials, client_id, client_secret, answering
  `{"access_token", "expires_in"?}`; then `Authorization: Bearer <token>` on `/api/ver1.0/...`
  (the unofficial SDK SpleeT/telphin, lib/Client.php; Telphin's page "Создание и авторизация
  приложений АТС" names the "trusted" application type that may use client credentials).
- Click-to-call: `POST /api/ver1.0/extension/{extension_id}/callback/`, JSON with `src_num` (an
  array: the numbers rung first) and `dst_num` (the number called once one of them answers), per
  the resource page "Callback (/callback/)" (ucom4b mirror 28279157 of ringme-confluence
  1901921362). UNVERIFIED: the answer's body (any 2xx is taken as queued) and how an extension is
  written in `src_num` (we send its code, with the channel's `extension_prefix` and "*" when set:
  "13596*101", the form of the events' CalledNumber).
- Recordings: `GET /api/ver1.0/client/@me/record/<record_uuid>` answers with the file itself
  (Telphin's page "Хранение и получение записей разговоров", RAADM 61315327). UNVERIFIED: that an
  event's RecID is that record_uuid.

Settings of the channel: `client_id`, `client_secret`, `extension_ids` ({"101": 123456}: our
extension code to Telphin's numeric extension_id, which the callback URL needs),
`extension_prefix` (optional), `api_url` (default https://apiproxy.telphin.ru).
The token is cached until shortly before it expires; a 401 drops it, and the try is retried.
"""

import hashlib
import json
from typing import IO
from urllib.parse import quote, urlencode

from django.core.cache import cache

from okno.inbox.adapters.base import SendFailed
from okno.telephony.pbx_api import PbxRefused, api_base, json_answer, pbx_call

API_URL = "https://apiproxy.telphin.ru"
# When Telphin does not say how long its token lives; an hour is what OAuth servers commonly grant.
DEFAULT_TOKEN_SECONDS = 3600
# Refreshed this much before it runs out, so no request carries a token expiring on the way.
TOKEN_MARGIN_SECONDS = 60


def _credentials(channel) -> tuple[str, str]:
    client_id, secret = str(channel.settings.get("client_id") or ""), str(channel.settings.get("client_secret") or "")
    if not client_id or not secret:
        raise SendFailed("the Telphin channel needs client_id and client_secret to use Telphin's API", retry=False)
    return client_id, secret


def _cache_key(channel, client_id: str) -> str:
    # Per application: a channel given another application must not reuse the old one's token.
    return f"telphin-token:{channel.pk}:{hashlib.sha256(client_id.encode()).hexdigest()[:16]}"


def telphin_token(channel) -> str:
    """A bearer token for the channel's application (client credentials), cached."""
    client_id, secret = _credentials(channel)
    key = _cache_key(channel, client_id)
    token = cache.get(key)
    if token:
        return token
    body = urlencode({"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}).encode()
    answer = pbx_call(f"{api_base(channel, API_URL)}/oauth/token", vendor="Telphin", method="POST", data=body,
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
    data = json_answer(answer, vendor="Telphin")
    token = data.get("access_token")
    if not isinstance(token, str) or not token:
        raise SendFailed("Telphin gave no access_token", retry=False)
    try:
        lifetime = int(data.get("expires_in") or DEFAULT_TOKEN_SECONDS)
    except (TypeError, ValueError):
        lifetime = DEFAULT_TOKEN_SECONDS
    cache.set(key, token, timeout=max(lifetime - TOKEN_MARGIN_SECONDS, 1))
    return token


def _authorized(channel, url: str, **options):
    """A request with the bearer token; a 401 (token revoked or expired early) drops it and is retried."""
    token = telphin_token(channel)
    headers = {**options.pop("headers", {}), "Authorization": f"Bearer {token}"}
    try:
        return pbx_call(url, vendor="Telphin", headers=headers, **options)
    except PbxRefused as exc:
        if exc.status == 401:
            cache.delete(_cache_key(channel, _credentials(channel)[0]))
            raise SendFailed(f"{exc} (token dropped, next try gets a new one)", retry=True) from exc
        raise


def telphin_callback(channel, *, extension: str, number: str) -> None:
    """Click-to-call: Telphin rings the extension, then the number."""
    ids = channel.settings.get("extension_ids") or {}
    extension_id = str(ids.get(extension) or "") if isinstance(ids, dict) else ""
    if not extension_id:
        raise SendFailed(f"no Telphin extension_id for extension {extension}: add it to the channel's "
                         "extension_ids setting", retry=False)
    prefix = str(channel.settings.get("extension_prefix") or "")
    body = json.dumps({"src_num": [f"{prefix}*{extension}" if prefix else extension],
                       "dst_num": number.lstrip("+")}).encode()
    _authorized(channel, f"{api_base(channel, API_URL)}/api/ver1.0/extension/{quote(extension_id, safe='')}/callback/",
                method="POST", data=body, headers={"Content-Type": "application/json"})


def telphin_record(channel, record_id: str, sink: IO[bytes], *, max_bytes: int) -> str:
    """Downloads a recording into `sink`; returns the content type Telphin named."""
    url = f"{api_base(channel, API_URL)}/api/ver1.0/client/@me/record/{quote(record_id, safe='')}"
    return _authorized(channel, url, sink=sink, max_bytes=max_bytes, timeout=30).content_type


def telphin_callback_progressive(channel, *, extension: str, number: str) -> None:
    """The auto-dialer's call: Telphin rings the customer first, then the operator's extension
    (the callback resource with src_num and dst_num swapped; UNVERIFIED, see dialer_originate.py)."""
    ids = channel.settings.get("extension_ids") or {}
    extension_id = str(ids.get(extension) or "") if isinstance(ids, dict) else ""
    if not extension_id:
        raise SendFailed(f"no Telphin extension_id for extension {extension}: add it to the channel's "
                         "extension_ids setting", retry=False)
    prefix = str(channel.settings.get("extension_prefix") or "")
    body = json.dumps({"src_num": [number.lstrip("+")],
                       "dst_num": f"{prefix}*{extension}" if prefix else extension}).encode()
    _authorized(channel, f"{api_base(channel, API_URL)}/api/ver1.0/extension/{quote(extension_id, safe='')}/callback/",
                method="POST", data=body, headers={"Content-Type": "application/json"})
