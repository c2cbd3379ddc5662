"""Okno's own kind: a deal's new status goes back to the shop as a signed webhook."""

import base64
import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from okno.stores.adapters.base import StoreUnreachable
from okno.stores.adapters.okno import OknoAdapter


@pytest.fixture
def receiver():
    got: list[tuple[dict, bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            got.append((dict(self.headers), self.rfile.read(int(self.headers["Content-Length"]))))
            status = 500 if b"fail" in got[-1][1] else 200
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/status", got
    server.shutdown()
    server.server_close()


def test_the_status_webhook_is_signed_as_standard_webhooks(receiver):
    # given
    url, got = receiver
    # when
    OknoAdapter().write_status(settings={"callback_url": url, "secret": "whsec_x"}, external_id="B-1", status="paid")
    # then
    headers, body = got[0]
    assert json.loads(body)["external_id"] == "B-1" and json.loads(body)["status"] == "paid"
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.{body.decode()}".encode()
    expected = "v1," + base64.b64encode(hmac.new(b"whsec_x", signed, hashlib.sha256).digest()).decode()
    assert headers["webhook-signature"] == expected


def test_a_shop_answering_an_error_is_retried_and_none_without_an_address(receiver):
    url, _got = receiver
    with pytest.raises(StoreUnreachable, match="HTTP 500") as failed:
        OknoAdapter().write_status(settings={"callback_url": url, "secret": "s"}, external_id="fail", status="x")
    assert not failed.value.permanent
    with pytest.raises(StoreUnreachable) as none:
        OknoAdapter().write_status(settings={}, external_id="B-1", status="paid")
    assert none.value.permanent
