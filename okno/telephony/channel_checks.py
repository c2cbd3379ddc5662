""""Test connection" for the PBX kinds that Okno has an API client for (the page and the
registry are the inbox's: okno/inbox/channel_checks.py).

- Zadarma: the signed GET /v1/info/balance/ with the channel's api_key and api_secret (the
  same signing as click-to-call and recordings); answers the balance.
- Telphin: a client-credentials token from /oauth/token (never the cached one: the check is
  of the settings as they are now).
- Asterisk: an AMI Login and Logoff with the channel's user and secret.
- Mango: none; its API has no harmless request that proves the key and salt (UNVERIFIED).

Each with a short timeout (CHECK_TIMEOUT_SECONDS); nothing is written anywhere.
"""

from urllib.parse import urlencode

from django.utils.translation import gettext as _

from okno.inbox.adapters.base import SendFailed
from okno.inbox.channel_checks import CHECK_TIMEOUT_SECONDS, register_check
from okno.telephony.adapters import telphin_api, zadarma
from okno.telephony.ami import AmiConnection, AmiError, AmiRefused, ami_login, ami_logoff
from okno.telephony.pbx_api import api_base, json_answer, pbx_call


def zadarma_check(channel) -> tuple[bool, str]:
    key, secret = str(channel.settings.get("api_key") or ""), str(channel.settings.get("api_secret") or "")
    if not key or not secret:
        return False, _("Enter the API key and the API secret first.")
    method = "/v1/info/balance/"
    query, authorization = zadarma.zadarma_api_sign(key, secret, method, {"format": "json"})
    try:
        answer = pbx_call(f"{api_base(channel, zadarma.API_URL)}{method}?{query}", vendor="Zadarma",
                          headers={"Authorization": authorization}, timeout=CHECK_TIMEOUT_SECONDS)
        data = json_answer(answer, vendor="Zadarma")
    except SendFailed as exc:
        return False, str(exc)
    if data.get("status") != "success":
        return False, _("Zadarma refused: %(message)s") % {"message": str(data.get("message") or data)[:200]}
    return True, _("OK: Zadarma accepted the key; balance %(balance)s %(currency)s.") % {
        "balance": data.get("balance", "?"), "currency": data.get("currency", "")}


def telphin_check(channel) -> tuple[bool, str]:
    client_id = str(channel.settings.get("client_id") or "")
    secret = str(channel.settings.get("client_secret") or "")
    if not client_id or not secret:
        return False, _("Enter the API application's id and secret first.")
    body = urlencode({"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}).encode()
    try:
        answer = pbx_call(f"{api_base(channel, telphin_api.API_URL)}/oauth/token", vendor="Telphin", method="POST",
                          data=body, headers={"Content-Type": "application/x-www-form-urlencoded"},
                          timeout=CHECK_TIMEOUT_SECONDS)
        data = json_answer(answer, vendor="Telphin")
    except SendFailed as exc:
        return False, str(exc)
    if not data.get("access_token"):
        return False, _("Telphin gave no access token.")
    return True, _("OK: Telphin accepted the application.")


def asterisk_check(channel) -> tuple[bool, str]:
    s = channel.settings
    host, port = str(s.get("host") or ""), int(s.get("port") or 5038)
    if not host:
        return False, _("Enter the host first.")
    conn = AmiConnection(host, port, timeout=CHECK_TIMEOUT_SECONDS)
    try:
        conn.connect()
        ami_login(conn, username=str(s.get("username") or ""), secret=str(s.get("secret") or ""))
    except AmiRefused as exc:
        return False, _("Asterisk refused the login: %(message)s") % {"message": exc.message}
    except (AmiError, OSError) as exc:
        return False, _("Asterisk is unreachable at %(host)s:%(port)s: %(error)s") % {
            "host": host, "port": port, "error": str(exc)[:200] or type(exc).__name__}
    finally:
        ami_logoff(conn)
    return True, _("OK: Asterisk at %(host)s:%(port)s accepted the login.") % {"host": host, "port": port}


register_check("zadarma", zadarma_check)
register_check("telphin", telphin_check)
register_check("asterisk", asterisk_check)
