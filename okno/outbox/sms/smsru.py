"""SMS.ru (https://sms.ru/api): `GET /sms/send?api_id=&to=&msg=&json=1`, `GET /sms/status?api_id=&sms_id=&json=1`.

Confirmed from sms.ru/api/send and sms.ru/api/status (their documented json=1 examples):
send answers `{"status": "OK", "status_code": 100, "sms": {"7925...": {"status": "OK",
"status_code": 100, "sms_id": "000000-10000000"}}, "balance": 4122.56}`; a number it refuses has
`{"status": "ERROR", "status_code": 207, "status_text": "..."}` under "sms"; status answers
`{"status": "OK", "sms": {"<sms_id>": {"status": "OK", "status_code": 103, "status_text":
"Сообщение доставлено"}}}`.
UNVERIFIED: the `from` parameter for the sender name, a request-level error's shape
(`{"status": "ERROR", "status_code": 200, "status_text": ...}`) and the meaning of status codes other
than 103 (delivered) and 104 (cannot be delivered, from the example): 100-102 are taken as on their
way, 105-108 and 150 as not delivered.
SMS.ru takes no idempotency key: a worker killed between its answer and our commit sends the
SMS again when the lease runs out (at-least-once).
"""

from okno.outbox.sms import DELIVERED, SENT, UNDELIVERED, UNKNOWN, SmsError, SmsSent, digits, get_json

BASE_URL = "https://sms.ru"
DELIVERED_CODES = {103}
UNDELIVERED_CODES = {104, 105, 106, 107, 108, 150}  # UNVERIFIED beyond 104
ON_THE_WAY_CODES = {100, 101, 102}


def _base(provider) -> str:
    return (provider.base_url or BASE_URL).rstrip("/")


def _request_ok(data: dict) -> None:
    if data.get("status") != "OK":
        raise SmsError(f"SMS.ru {data.get('status_code', '?')}: {data.get('status_text', data.get('status', ''))}")


def send(provider, *, to: str, text: str, key: str) -> SmsSent:
    number = digits(to)
    params = {"api_id": provider.api_key, "to": number, "msg": text, "json": 1}
    if provider.sender:
        params["from"] = provider.sender
    data = get_json(f"{_base(provider)}/sms/send", params)
    _request_ok(data)
    one = (data.get("sms") or {}).get(number) or next(iter((data.get("sms") or {}).values()), None)
    if not isinstance(one, dict):
        raise SmsError("SMS.ru answered without the message")
    if one.get("status") != "OK" or not one.get("sms_id"):
        raise SmsError(f"SMS.ru {one.get('status_code', '?')}: {one.get('status_text', one.get('status', ''))}")
    return SmsSent(message_id=str(one["sms_id"]))


def status(provider, *, message_id: str, to: str) -> str:
    data = get_json(f"{_base(provider)}/sms/status", {"api_id": provider.api_key, "sms_id": message_id, "json": 1})
    _request_ok(data)
    one = (data.get("sms") or {}).get(message_id) or {}
    code = one.get("status_code")
    if code in DELIVERED_CODES:
        return DELIVERED
    if code in UNDELIVERED_CODES:
        return UNDELIVERED
    if code in ON_THE_WAY_CODES:
        return SENT
    return UNKNOWN
