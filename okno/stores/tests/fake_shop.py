"""A simulated WooCommerce shop: an in-process HTTP server keeping orders and their statuses.

Serves the REST v3 calls the adapter makes (PUT and GET orders, a modified time per change,
one second apart as WooCommerce's are) and can be made to fail (down: 503, or any 4xx). Used by
the tests and bench/bench_stores.py; `webhook_body(id)` is what the shop would post for an order.
"""

import json
import re
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from okno.stores.tests.factories import woo_order

ORDER_RE = re.compile(r"^/wp-json/wc/v3/orders/(\d+)$")


class FakeShop:
    def __init__(self):
        self.orders: dict[str, dict] = {}
        self.fail_with: int | None = None
        self.writes: list[tuple[str, str]] = []
        self.clock = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
        self.lock = threading.Lock()
        shop = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _answer(self, status: int, body) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_PUT(self):
                if shop.fail_with:
                    return self._answer(shop.fail_with, {"code": "down", "message": "shop says no"})
                match = ORDER_RE.match(self.path)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if not match or match[1] not in shop.orders:
                    return self._answer(404, {"code": "woocommerce_rest_shop_order_invalid_id"})
                with shop.lock:
                    shop.writes.append((match[1], body["status"]))
                    order = shop.change(match[1], body["status"])
                return self._answer(200, order)

            def do_GET(self):
                if shop.fail_with:
                    return self._answer(shop.fail_with, {"code": "down"})
                if self.path.startswith("/wp-json/wc/v3/orders"):
                    return self._answer(200, sorted(shop.orders.values(), key=lambda o: o["date_modified_gmt"]))
                return self._answer(404, {})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> "FakeShop":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def tick(self) -> str:
        """The shop's modification time: its wall clock (as a real shop's), strictly increasing."""
        self.clock = max(self.clock + timedelta(milliseconds=1), datetime.now(UTC))
        return self.clock.strftime("%Y-%m-%dT%H:%M:%S.%f")

    def add(self, order_id: str, status: str = "processing", phone: str = "8 (912) 345-67-89") -> dict:
        order = woo_order(id=int(order_id), number=order_id, status=status, date_modified_gmt=self.tick())
        order["billing"] = {**order["billing"], "phone": phone, "email": ""}
        self.orders[order_id] = order
        return order

    def change(self, order_id: str, status: str) -> dict:
        """A status change in the shop (by its admin, or by Okno's write)."""
        order = {**self.orders[order_id], "status": status, "date_modified_gmt": self.tick()}
        self.orders[order_id] = order
        return order

    def webhook_body(self, order_id: str) -> dict:
        return self.orders[order_id]
