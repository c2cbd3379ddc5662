"""An order from the store becomes a deal, or updates its deal; a status moves it.

Rules (docs/stores.md):
- the customer is found by the card's identity rules (contacts.identify: a phone in another
  format is the same person) or created; an order with no phone and no e-mail is held;
- a new order enters the stage its status maps to; a status missing from the map holds the
  order (reason `status_unmapped`) until the map is changed, which retries it;
- the store's modification time (or version) orders its states: an older or equal state is
  stale and changes nothing, so a repeated or reordered webhook is harmless;
- a status that Okno itself wrote, coming back, is an echo: recorded, nothing moved;
- a real store change while Okno's own write is still pending is a conflict: the later change
  wins (the store's modification time against the deal's entry into its stage), and both are
  written on the deal's timeline.
"""

import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from okno.contacts.identify import Identity, contact_identify
from okno.core.errors import FieldError
from okno.deals.deal_required import REQUIRED_DETAIL
from okno.deals.deal_services import (
    AMOUNT_MAX,
    QUANTITY_MAX,
    DealData,
    deal_create,
    deal_move_to_stage,
    deal_update,
    lines_total,
)
from okno.deals.models import Deal, PipelineField, Stage
from okno.stores.adapters.base import Malformed, Order, decimal
from okno.stores.models import StoreConnection, StoreLog, StoreOrder, StoreWrite
from okno.timeline.models import Activity
from okno.timeline.services import activity_record

log = logging.getLogger(__name__)
CENT = Decimal("0.01")
QTY = Decimal("0.001")


class Held(Exception):
    """The order cannot be taken as it is: kept with a reason a person can act on."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


@dataclass
class Taken:
    order: StoreOrder | None
    outcome: str  # a StoreLog.Kind
    # A new order whose stage refused it: its deal is made at the pipeline's first open stage and
    # this hold (`stage_refused`) keeps its event as a problem, so a retry applies the status.
    held: Held | None = None


def _lines(order: Order) -> list[dict]:
    """Order lines as the deal's snapshots: quantities and prices as the deal keeps them (a
    discount line's negative price is kept at 0: the order's total, in custom, is the truth)."""
    out = []
    for i, line in enumerate(order.lines):
        if line.quantity > QUANTITY_MAX or line.price > AMOUNT_MAX:
            raise Malformed(f"lines[{i}]: quantity or price beyond what a deal holds")
        quantity = line.quantity.quantize(QTY) if line.quantity > 0 else Decimal("1.000")
        out.append({"name": line.name[:500] or "—", "sku": line.sku[:100], "quantity": quantity,
                    "price": max(line.price, Decimal(0)).quantize(CENT)})
    if out and lines_total(out) > AMOUNT_MAX:
        raise Malformed("the lines' sum is beyond what a deal holds")
    return out


def _typed(value: str, spec: PipelineField) -> str | None:
    """A store's value as the pipeline's field of that key keeps it, or None when it does not fit."""
    if spec.type == PipelineField.Type.DATE:
        for fmt in ("%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y"):
            try:
                return datetime.strptime(value[:10], fmt).date().isoformat()
            except ValueError:
                continue
        return None
    if spec.type == PipelineField.Type.NUMBER:
        number = decimal(value, None)
        return str(number) if number is not None else None
    if spec.type == PipelineField.Type.CHOICE:
        return value if value in spec.choices else None
    return value


def _custom(order: Order, fields: dict[str, PipelineField]) -> dict:
    """The order's details on the deal (Deal.custom): shown by the pipeline's fields of these keys.

    A key the pipeline defines is typed as its field says (a date "06.12.2026" becomes
    2026-12-06); a value that does not fit (a delivery method the field's choices lack) is kept
    as `store_<key>` instead, so the field stays valid and nothing the store said is lost."""
    values = {
        "order_number": order.number, "order_total": str(order.total) if order.total is not None else "",
        "store_status": order.status, "delivery_method": order.delivery.get("method", ""),
        "delivery_address": order.delivery.get("address", ""), "delivery_price": order.delivery.get("price", ""),
        "delivery_date": order.delivery.get("date", ""), "payment_method": order.payment.get("method", ""),
        "payment_paid": "yes" if order.payment.get("paid") else "", "comment": order.comment,
    }
    out = {}
    for key, value in values.items():
        if value in ("", None):
            continue
        value = str(value)[:2000]
        spec = fields.get(key)
        typed = _typed(value, spec) if spec is not None else value
        if typed is None:
            out[f"store_{key}"] = value
        else:
            out[key] = typed
    return out


def _fields(connection: StoreConnection) -> dict[str, PipelineField]:
    return {f.key: f for f in PipelineField.objects.filter(pipeline_id=connection.pipeline_id)}


def _log(connection: StoreConnection, kind: str, message: str, order: StoreOrder | None = None) -> None:
    StoreLog.objects.create(connection=connection, order=order, kind=kind, message=message[:2000])


def _on_deal(deal: Deal, summary: str) -> None:
    """A line on the deal's customer's timeline (the conflicts' both sides are written here)."""
    if deal.contact_id:
        activity_record(contact=deal.contact, kind=Activity.Kind.DEAL, summary=summary, detail=deal)


def _is_stale(stored: StoreOrder, order: Order) -> bool:
    if order.version is not None and stored.store_version is not None:
        return order.version < stored.store_version or (
            order.version == stored.store_version and order.status == stored.store_status)
    if order.updated_at is not None and stored.store_updated_at is not None:
        return order.updated_at < stored.store_updated_at or (
            order.updated_at == stored.store_updated_at and order.status == stored.store_status)
    return False


def _create(connection: StoreConnection, order: Order, stage: Stage) -> tuple[StoreOrder, Held | None]:
    customer = order.customer
    if not customer.phones and not customer.emails:
        raise Held("no_contact", _("the order has no phone and no e-mail of the customer"))
    contact, _created = contact_identify(
        identity=Identity(name=customer.name, phones=customer.phones, emails=customer.emails, typed=True),
        source=connection.name)
    lines = _lines(order)
    title = _("Order %(number)s") % {"number": order.number or order.external_id}
    data = DealData(title=title[:300], contact=contact, company=contact.company, source=connection.name[:100],
                    custom=_custom(order, _fields(connection)), external_id=order.external_id, stage=stage,
                    lines=lines or None,
                    amount=min(max(order.total or Decimal(0), Decimal(0)), AMOUNT_MAX).quantize(CENT)
                    if not lines else Decimal(0),
                    currency=(order.currency or "RUB").upper()[:3])
    deal = Deal.objects.filter(pipeline_id=connection.pipeline_id, external_id=order.external_id,
                               store_order__isnull=True).first()
    held = None
    if deal is None:
        deal, held = _create_deal(connection, order, data, stage)
    # A held status is not recorded as taken: a retry of the same state is then not stale and
    # moves the deal once the fields are filled.
    stored = StoreOrder.objects.create(
        connection=connection, external_id=order.external_id, number=order.number, deal=deal,
        store_status="" if held else order.status, store_updated_at=order.updated_at, store_version=order.version)
    return stored, held


def _create_deal(connection: StoreConnection, order: Order, data: DealData, stage: Stage) -> tuple[Deal, Held | None]:
    """The order's deal at the stage its status maps to; when that stage's required fields are
    empty on the order, at the pipeline's first open stage, with the status held (`stage_refused`)
    as a move would be: the order is in Okno at once and nothing the store sent is lost."""
    try:
        return deal_create(actor=None, pipeline=connection.pipeline, data=data, via="store"), None
    except FieldError as exc:
        if exc.detail != REQUIRED_DETAIL:
            raise
        refused = exc
    held = Held("stage_refused", _("the store's status “%(status)s” leads to “%(stage)s”, which refuses the "
                                   "deal: %(reason)s") % {"status": order.status, "stage": stage.name,
                                                          "reason": _refusal(refused)})
    first = connection.pipeline.stages.filter(kind=Stage.Kind.OPEN).order_by("position", "id").first()
    if first is None or first.pk == stage.pk:
        raise held
    data.stage = first
    try:
        return deal_create(actor=None, pipeline=connection.pipeline, data=data, via="store"), held
    except FieldError as exc:
        # The first stage refuses it too: the order waits as an event, with the mapped stage's reason.
        if exc.detail != REQUIRED_DETAIL:
            raise
        raise held from exc


def _update_details(stored: StoreOrder, order: Order) -> bool:
    lines = _lines(order)
    given = {"custom"} | ({"lines"} if lines else set())
    data = DealData(custom=_custom(order, _fields(stored.connection)), lines=lines if lines else None, given=given)
    before = stored.deal.updated_at
    deal = deal_update(actor=None, deal=stored.deal, data=data, via="store")
    return deal.updated_at != before


def _refusal(exc: FieldError) -> str:
    """Which fields a stage wants and why: "custom.delivery_date: required before entering “Confirmed”"."""
    return "; ".join(f"{name}: {reason}" for name, reason in exc.by_field.items())


def _move(stored: StoreOrder, stage: Stage, order: Order) -> None:
    try:
        deal_move_to_stage(deal=stored.deal, stage=stage, actor=None, via="store", at=None)
    except FieldError as exc:
        raise Held("stage_refused", _("the store's status “%(status)s” leads to “%(stage)s”, which refuses the "
                                      "deal: %(reason)s") % {"status": order.status, "stage": stage.name,
                                                             "reason": _refusal(exc)}) from exc


def _status(connection: StoreConnection, stored: StoreOrder, order: Order, stage: Stage) -> str:
    """Applies the store's status; returns the StoreLog kind of what happened."""
    deal = Deal.objects.select_related("stage", "contact").get(pk=stored.deal_id)
    stored.deal = deal
    writes = StoreWrite.objects.filter(order=stored)
    echo = writes.filter(status=order.status, echo_seen=False, state=StoreWrite.State.SENT).order_by("-pk").first()
    if echo is not None:
        StoreWrite.objects.filter(pk=echo.pk).update(echo_seen=True)
        return StoreLog.Kind.ECHO
    pending = writes.filter(state=StoreWrite.State.PENDING)
    if stage.pk == deal.stage_id:
        # Both sides agree already: a write of this very status still waiting is not needed.
        pending.filter(status=order.status).update(state=StoreWrite.State.SUPERSEDED,
                                                   last_error="the store has this status already")
        return StoreLog.Kind.UPDATED
    last = writes.exclude(state=StoreWrite.State.SUPERSEDED).order_by("-pk").first()
    if last is None or last.stage_id != deal.stage_id:
        # The deal's stage came from the store itself (or its creation): the newer store state wins.
        _move(stored, stage, order)
        return StoreLog.Kind.MOVED
    if last.state == StoreWrite.State.SENT and last.echo_seen:
        # The store's own clock put this state after Okno's write (its answer's time, or the echo
        # already seen, is older than this non-stale state): a later change in the store.
        _move(stored, stage, order)
        return StoreLog.Kind.MOVED
    # Okno moved the deal and is telling the store (or the store never said when it took it); the
    # store says otherwise: the later change wins, compared across the two clocks.
    store_at = order.updated_at or timezone.now()
    if store_at < deal.stage_entered_at:
        _on_deal(deal, _("Conflict: the store's status “%(status)s” (%(at)s) is older than the move in Okno to "
                         "“%(stage)s”: Okno's later change wins") % {
            "status": order.status, "at": store_at.isoformat(timespec="seconds"), "stage": deal.stage.name})
        if not pending.exists():
            StoreWrite.objects.create(connection=connection, order=stored, status=last.status, stage_id=deal.stage_id)
        return StoreLog.Kind.CONFLICT
    pending.update(state=StoreWrite.State.SUPERSEDED, last_error="a later change in the store won")
    _on_deal(deal, _("Conflict: the store set “%(status)s” after the move in Okno to “%(stage)s”: the store's "
                     "later change wins") % {"status": order.status, "stage": deal.stage.name})
    _move(stored, stage, order)
    return StoreLog.Kind.CONFLICT


@transaction.atomic
def store_order_take(*, connection: StoreConnection, order: Order) -> Taken:
    """Creates or updates the order's deal as the rules in this module's docstring say."""
    stage_id = connection.stage_for(order.status)
    stage = Stage.objects.filter(pk=stage_id, pipeline_id=connection.pipeline_id).first() if stage_id else None
    stored = (StoreOrder.objects.select_for_update().filter(connection=connection, external_id=order.external_id)
              .first())
    if stored is not None and _is_stale(stored, order):
        _log(connection, StoreLog.Kind.STALE, _("%(order)s: %(status)s (%(at)s) is not newer than what Okno has") % {
            "order": order.external_id, "status": order.status, "at": order.updated_at or order.version}, stored)
        return Taken(stored, StoreLog.Kind.STALE)
    if stage is None:
        raise Held("status_unmapped", _("the store's status “%(status)s” is not in the connection's status map")
                   % {"status": order.status})
    if stored is None:
        stored, held = _create(connection, order, stage)
        entered = stored.deal.stage.name if held else stage.name
        _log(connection, StoreLog.Kind.CREATED, _("%(order)s → deal %(deal)s (%(stage)s)") % {
            "order": order.external_id, "deal": stored.deal_id, "stage": entered}, stored)
        return Taken(stored, StoreLog.Kind.CREATED, held=held)
    outcome = _status(connection, stored, order, stage)
    changed = _update_details(stored, order)
    stored.store_status = order.status
    stored.number = order.number or stored.number
    if order.updated_at is not None:
        stored.store_updated_at = order.updated_at
    if order.version is not None:
        stored.store_version = order.version
    stored.save(update_fields=["store_status", "number", "store_updated_at", "store_version", "updated_at"])
    if outcome != StoreLog.Kind.UPDATED or changed:
        _log(connection, outcome, f"{order.external_id}: {order.status} → {stage.name}", stored)
    return Taken(stored, outcome)
