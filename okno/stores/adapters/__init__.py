"""Store adapters by kind: parse the store's orders, verify its webhooks, write statuses back."""

from okno.stores.adapters.base import StoreAdapter
from okno.stores.adapters.insales import InSalesAdapter
from okno.stores.adapters.okno import OknoAdapter
from okno.stores.adapters.pretix import PretixAdapter
from okno.stores.adapters.tilda import TildaAdapter
from okno.stores.adapters.woocommerce import WooCommerceAdapter

ADAPTERS: dict[str, StoreAdapter] = {a.kind: a for a in (
    WooCommerceAdapter(), InSalesAdapter(), TildaAdapter(), OknoAdapter(), PretixAdapter())}


def get(kind: str) -> StoreAdapter | None:
    return ADAPTERS.get(kind)
