"""PBX webhooks as their vendors send them (PROTOCOLS.md 4a, 4b), prepared as request bytes."""

import json
import time
from urllib.parse import urlencode

LINE = "74951234567"


def _request(path: str, port: int, body: bytes, extra: str = "") -> bytes:
    return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{extra}"
            f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body


def customer_number(run_prefix: str, n: int) -> str:
    """A new customer per call: 79<3-digit run prefix><6 digits>."""
    return f"79{run_prefix}{n:06d}"


def mango_ring(channel, port: int, *, n: int, run: str, run_prefix: str, extension: str) -> bytes:
    """Mango events/call `Appeared` at an employee's extension: what rings their phone."""
    from okno.telephony.adapters.mango import mango_sign

    data = {"entry_id": f"bench-{run}-{n}", "call_id": f"bench-{run}-{n}-leg", "timestamp": str(int(time.time())),
            "seq": "1", "call_state": "Appeared", "location": "abonent",
            "from": {"number": customer_number(run_prefix, n)},
            "to": {"extension": extension, "number": LINE, "line_number": LINE}}
    text = json.dumps(data)
    key, salt = channel.settings["api_key"], channel.settings["api_salt"]
    body = urlencode({"vpbx_api_key": key, "sign": mango_sign(key, text, salt), "json": text}).encode()
    return _request(channel.webhook_path + "events/call", port, body)


def zadarma_start(channel, port: int, *, n: int, run: str, run_prefix: str) -> bytes:
    """Zadarma NOTIFY_START with its Signature header."""
    from okno.telephony.adapters.zadarma import zadarma_signature

    fields = {"event": "NOTIFY_START", "call_start": time.strftime("%Y-%m-%d %H:%M:%S"),
              "pbx_call_id": f"in_bench{run}{n}", "caller_id": customer_number(run_prefix, n), "called_did": LINE}
    signature = zadarma_signature(channel.settings["api_secret"], fields, "NOTIFY_START")
    return _request(channel.webhook_path, port, urlencode(fields).encode(), f"Signature: {signature}\r\n")
