"""SMSC.ru (https://smsc.ru/api/http/): `GET /sys/send.php?login=&psw=&phones=&mes=&fmt=3`.

Confirmed from smsc.ru/api/http (send) and smscentre.com/api/http/status_messages (status):
the parameters login, psw (or apikey), phones, mes, sender, fmt=3 for JSON, charset=utf-8, and
`/sys/status.php?login=&psw=&phone=&id=&fmt=3`. With fmt=3 a send answers `{"id": <id>, "cnt": <parts>}`
or `{"error": "<text>", "error_code": <n>}` (as the brief states and SMSC's own sample scripts read
it: codes 1 parameters, 2 login, 3 funds, 4 IP blocked, 6 message forbidden, 7 number format,
8 cannot deliver, 9 the same request twice within a minute).
UNVERIFIED: the status answer's JSON fields (`{"status": <n>, "last_date": ..., "err": <n>}`) and the
status numbers (-1 waiting, 0 passed to the operator, 1 delivered, 3 expired, 20 cannot deliver,
22 wrong number, 23 forbidden, 24 no funds, 25 unavailable).
SMSC takes no idempotency key either (its error 9 only refuses an identical request within a
minute): at-least-once, as SMS.ru.
"""

from okno.outbox.sms import DELIVERED, SENT, UNDELIVERED, UNKNOWN, SmsError, SmsSent, digits, get_json

BASE_URL = "https://smsc.ru"
DELIVERED_STATUSES = {1}
UNDELIVERED_STATUSES = {3, 20, 22, 23, 24, 25}  # UNVERIFIED
ON_THE_WAY_STATUSES = {-1, 0}  # UNVERIFIED


def _base(provider) -> str:
    return (provider.base_url or BASE_URL).rstrip("/")


def _auth(provider) -> dict:
    if provider.api_key:
        return {"apikey": provider.api_key}
    return {"login": provider.login, "psw": provider.password}


def send(provider, *, to: str, text: str, key: str) -> SmsSent:
    params = {**_auth(provider), "phones": digits(to), "mes": text, "fmt": 3, "charset": "utf-8"}
    if provider.sender:
        params["sender"] = provider.sender
    data = get_json(f"{_base(provider)}/sys/send.php", params)
    if "error" in data or "error_code" in data:
        raise SmsError(f"SMSC {data.get('error_code', '?')}: {data.get('error', '')}")
    if data.get("id") in (None, ""):
        raise SmsError(f"SMSC answered without an id: {str(data)[:200]}")
    return SmsSent(message_id=str(data["id"]))


def status(provider, *, message_id: str, to: str) -> str:
    data = get_json(f"{_base(provider)}/sys/status.php",
                    {**_auth(provider), "phone": digits(to), "id": message_id, "fmt": 3, "charset": "utf-8"})
    if "error" in data or "error_code" in data:
        raise SmsError(f"SMSC {data.get('error_code', '?')}: {data.get('error', '')}")
    code = data.get("status")
    if code in DELIVERED_STATUSES:
        return DELIVERED
    if code in UNDELIVERED_STATUSES:
        return UNDELIVERED
    if code in ON_THE_WAY_STATUSES:
        return SENT
    return UNKNOWN
