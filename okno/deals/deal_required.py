"""A stage's required fields: what must be filled before a deal may enter it.

Checked on every way into a stage: `deal_move_to_stage` (a move) and `deal_create` (a new deal
entering its first stage), for every caller (pages, API, robots, stores). The keys are built-in
(`amount` non-zero, `responsible`, `company`, `contact`, `source`, `lines`) or the pipeline's
custom field keys (`delivery_date`, also written `custom.delivery_date`).
"""

from dataclasses import dataclass, field
from decimal import Decimal

from okno.core.errors import FieldError
from okno.deals.models import Deal, Stage

REFERENCES = ("responsible", "company", "contact")
# The detail of the FieldError a refused stage raises: the API answers it, a store's held order quotes it.
REQUIRED_DETAIL = "Required fields are empty"


@dataclass
class DealValues:
    """What a deal would hold on entering a stage: a saved deal, or a new one not written yet."""

    amount: Decimal = Decimal("0")
    responsible_id: int | None = None
    company_id: int | None = None
    contact_id: int | None = None
    source: str = ""
    has_lines: bool = False
    custom: dict = field(default_factory=dict)
    deal: Deal | None = None  # a saved deal: its lines are counted only when a stage requires them

    @classmethod
    def of(cls, deal: Deal) -> "DealValues":
        return cls(amount=deal.amount, responsible_id=deal.responsible_id, company_id=deal.company_id,
                   contact_id=deal.contact_id, source=deal.source, custom=deal.custom or {}, deal=deal)


def _is_empty(values: DealValues, key: str) -> bool:
    if key == "amount":
        return not values.amount
    if key in REFERENCES:
        return getattr(values, f"{key}_id") is None
    if key == "source":
        return not values.source
    if key == "lines":
        return not (values.deal.lines.exists() if values.deal is not None else values.has_lines)
    value = values.custom.get(key.removeprefix("custom."))
    return value is None or value == "" or value == []


def field_name(key: str) -> str:
    """A required key as the API names the field: "responsible" -> "responsible_id", "delivery_date" ->
    "custom.delivery_date"."""
    if key in REFERENCES:
        return f"{key}_id"
    if key in ("amount", "source", "lines"):
        return key
    return f"custom.{key.removeprefix('custom.')}"


def required_missing(stage: Stage, values: DealValues) -> dict[str, str]:
    """{field: reason} for each of the stage's required fields that `values` leave empty."""
    # Reasons speak English to programs, as every service's do; pages translate them (reason_text).
    return {field_name(key): f"required before entering “{stage.name}”"
            for key in stage.required_fields or [] if _is_empty(values, key)}


def required_check(stage: Stage, values: DealValues) -> None:
    """Raises FieldError naming every required field of `stage` that `values` leave empty."""
    missing = required_missing(stage, values)
    if missing:
        raise FieldError(missing, detail=REQUIRED_DETAIL)
