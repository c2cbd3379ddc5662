"""Deals: creating, editing, their line items, and moving them from stage to stage.

`deal_move_to_stage` is the only way a deal changes stage. Each service owns its transaction
and publishes its domain event inside it (okno.core.events), after the rows are written, so
the robots' deadlines and the outbox's webhooks commit or roll back with the change:
- `deal.created` {deal_id, pipeline_id, stage_id, ...}: robots treat it as entering the first
  stage (no separate `deal.stage_changed` is published for it);
- `deal.stage_changed` {deal_id, pipeline_id, from_stage_id, to_stage_id, via, actor_id, at};
- `deal.updated` {deal_id, pipeline_id, stage_id, changed: [field names], via, actor_id, at}.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from okno.contacts.models import Company, Contact
from okno.core import events
from okno.core.errors import FieldError
from okno.deals.deal_required import DealValues, required_check
from okno.deals.models import Deal, DealLineItem, DealStageChange, LostReason, Pipeline, PipelineField, Stage
from okno.people.models import User
from okno.people.visibility import contact_visibility_q, users_visible_to
from okno.timeline.models import Activity
from okno.timeline.services import activity_record

CENT = Decimal("0.01")
# Deal.amount is DecimalField(max_digits=14, decimal_places=2): 12 digits before the point.
AMOUNT_MAX = Decimal("999999999999.99")
QUANTITY_MAX = Decimal("999999999.999")
NULLABLE = ("contact_id", "company_id", "responsible_id")
VIAS = ("user", "robot", "api", "store", "event", "lead", "import")


@dataclass
class DealData:
    """Validated input for a deal. Build with `deal_data_clean`; `given` says what was sent."""

    title: str = ""
    amount: Decimal = Decimal("0.00")
    currency: str = "RUB"
    contact: Contact | None = None
    company: Company | None = None
    responsible: User | None = None
    source: str = ""
    utm: dict = field(default_factory=dict)
    custom: dict = field(default_factory=dict)
    external_id: str = ""
    stage: Stage | None = None
    lines: list[dict] | None = None
    given: set[str] = field(default_factory=set)


def parse_money(value, *, max_value: Decimal = AMOUNT_MAX, places: int = 2) -> Decimal | None:
    """A non-negative Decimal from a string or a number, or None when it is not one.

    A float is read through its shortest repr (1500.1 -> "1500.1"), never its binary value
    (1500.0999999999999), so a JSON number arrives as the person typed it."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        value = repr(value) if isinstance(value, float) else str(value)
    if not isinstance(value, (str, Decimal)):
        return None
    try:
        number = Decimal(str(value).replace(",", ".").replace(" ", "").replace("\u00a0", "").strip())
    except InvalidOperation:
        return None
    if not number.is_finite() or number < 0 or number > max_value:
        return None
    if number != number.quantize(Decimal(1).scaleb(-places)):
        return None
    return number.quantize(Decimal(1).scaleb(-places))


def _clean_custom(values, pipeline: Pipeline, errors: dict[str, str]) -> dict:
    """Values of the pipeline's custom fields; numbers kept as decimal strings (never floats)."""
    if not values:
        return {}
    if not isinstance(values, dict):
        errors["custom"] = "must be an object"
        return {}
    defs = {f.key: f for f in pipeline.fields.all()}
    cleaned = {}
    for key, value in values.items():
        name = f"custom.{key}"
        spec = defs.get(key)
        if spec is None:
            errors[name] = "unknown custom field"
        elif value is None or value == "":
            cleaned[key] = None
        elif spec.type == PipelineField.Type.NUMBER:
            try:
                if isinstance(value, bool):
                    raise InvalidOperation
                number = Decimal(repr(value) if isinstance(value, float) else str(value).replace(",", ".").strip())
                if not number.is_finite():
                    raise InvalidOperation
                cleaned[key] = str(number)
            except InvalidOperation:
                errors[name] = "must be a number"
        elif spec.type == PipelineField.Type.DATE:
            try:
                cleaned[key] = date.fromisoformat(str(value).strip()).isoformat()
            except ValueError:
                errors[name] = "must be a date as YYYY-MM-DD"
        elif spec.type == PipelineField.Type.CHOICE:
            if str(value) not in spec.choices:
                errors[name] = f"must be one of: {', '.join(spec.choices)}"
            else:
                cleaned[key] = str(value)
        elif not isinstance(value, (str, int)) or isinstance(value, bool):
            errors[name] = "must be text"
        else:
            cleaned[key] = str(value)[:2000]
    return cleaned


def _clean_lines(raw, errors: dict[str, str]) -> list[dict]:
    if not isinstance(raw, list):
        errors["lines"] = "must be a list of {name, sku, quantity, price}"
        return []
    lines = []
    for i, item in enumerate(raw):
        name = f"lines[{i}]"
        if not isinstance(item, dict):
            errors[name] = "must be an object with name, sku, quantity, price"
            continue
        title = item.get("name")
        if not isinstance(title, str) or not title.strip():
            errors[f"{name}.name"] = "required"
            continue
        sku = item.get("sku") or ""
        if not isinstance(sku, (str, int)) or isinstance(sku, bool):
            errors[f"{name}.sku"] = "must be text"
            continue
        quantity = parse_money(item.get("quantity", 1), max_value=QUANTITY_MAX, places=3)
        if quantity is None or quantity == 0:
            errors[f"{name}.quantity"] = "must be a positive number with at most 3 decimals"
            continue
        price = parse_money(item.get("price", 0))
        if price is None:
            errors[f"{name}.price"] = "must be an amount of money, at least 0, with at most 2 decimals"
            continue
        lines.append({"name": title.strip()[:500], "sku": str(sku).strip()[:100], "quantity": quantity,
                      "price": price})
    return lines


def lines_total(lines: list[dict]) -> Decimal:
    return sum(((line["quantity"] * line["price"]).quantize(CENT) for line in lines), Decimal("0.00"))


def _ref(raw: dict, key: str, errors: dict[str, str]):
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        errors[key] = "must be an id"
        return None
    return value


def deal_data_clean(raw: dict, *, pipeline: Pipeline, partial: bool = False, actor: User | None = None) -> DealData:
    """Validates deal input from any door (API, page, lead conversion, a store).

    Title is required; amount a Decimal >= 0 with at most 2 decimals (strings or numbers);
    currency three letters; contact and company must exist and be visible to `actor` (None:
    the system, which sees all); responsible must be someone the actor may assign; custom values
    typed by the pipeline's fields; lines [{name, sku, quantity, price}]. Every bad field is
    named at once."""
    if not isinstance(raw, dict):
        raise FieldError({"body": "must be an object"})
    errors: dict[str, str] = {}
    # A null clears a reference; for any other field it means "not given".
    data = DealData(given={k for k, v in raw.items() if v is not None or k in NULLABLE})
    if "title" in raw or not partial:
        title = raw.get("title")
        if not isinstance(title, str) or not title.strip():
            errors["title"] = "required"
        elif len(title.strip()) > 300:
            errors["title"] = "must be 1 to 300 characters"
        else:
            data.title = title.strip()
    if raw.get("amount") is not None:
        amount = parse_money(raw["amount"])
        if amount is None:
            errors["amount"] = "must be an amount of money, at least 0, with at most 2 decimals"
        else:
            data.amount = amount
    if raw.get("currency") is not None:
        currency = raw["currency"]
        if not isinstance(currency, str) or len(currency.strip()) != 3 or not currency.strip().isalpha():
            errors["currency"] = "must be a three-letter currency code"
        else:
            data.currency = currency.strip().upper()
    for name, limit in (("source", 100), ("external_id", 100)):
        value = raw.get(name)
        if value is not None:
            if not isinstance(value, (str, int)) or isinstance(value, bool):
                errors[name] = "must be text"
            elif len(str(value).strip()) > limit:
                errors[name] = f"must be 1 to {limit} characters"
            else:
                setattr(data, name, str(value).strip())
    if raw.get("utm") is not None:
        if not isinstance(raw["utm"], dict):
            errors["utm"] = "must be an object"
        else:
            data.utm = {str(k)[:64]: str(v)[:500] for k, v in raw["utm"].items()}

    contact_id = _ref(raw, "contact_id", errors)
    if contact_id is not None:
        contacts = Contact.objects.filter(status=Contact.Status.ACTIVE)
        if actor is not None:
            contacts = contacts.filter(contact_visibility_q(actor))
        data.contact = contacts.select_related("company").filter(pk=contact_id).first()
        if data.contact is None:
            errors["contact_id"] = "no such contact"
    company_id = _ref(raw, "company_id", errors)
    if company_id is not None:
        companies = Company.objects.all()
        if actor is not None and not actor.is_admin:
            companies = companies.filter(pk__in=Contact.objects.filter(
                contact_visibility_q(actor), status=Contact.Status.ACTIVE).values("company_id"))
        data.company = companies.filter(pk=company_id).first()
        if data.company is None:
            errors["company_id"] = "no such company"
    elif data.contact is not None and "company_id" not in raw:
        data.company = data.contact.company
    responsible_id = _ref(raw, "responsible_id", errors)
    if responsible_id is not None:
        people = User.objects.filter(is_active=True)
        if actor is not None:
            people = people.filter(users_visible_to(actor))
        data.responsible = people.filter(pk=responsible_id).first()
        if data.responsible is None:
            errors["responsible_id"] = "no such user you may assign"
    stage_id = _ref(raw, "stage_id", errors)
    if stage_id is not None:
        data.stage = pipeline.stages.filter(pk=stage_id).first()
        if data.stage is None:
            errors["stage_id"] = "no such stage in this pipeline"
    data.custom = _clean_custom(raw.get("custom"), pipeline, errors)
    if raw.get("lines") is not None:
        data.lines = _clean_lines(raw["lines"], errors)
        if data.lines and raw.get("amount") is not None and "amount" not in errors \
                and data.amount != lines_total(data.lines):
            errors["amount"] = "the amount of a deal with line items is their sum: leave it out"
    if errors:
        raise FieldError(errors)
    return data


def _json_time(value) -> str:
    return value.isoformat()


def _created_data(deal: Deal, *, via: str, actor: User | None) -> dict:
    return {
        "deal_id": deal.pk, "pipeline_id": deal.pipeline_id, "stage_id": deal.stage_id,
        "contact_id": deal.contact_id, "company_id": deal.company_id, "responsible_id": deal.responsible_id,
        "department_id": deal.department_id, "lead_id": deal.lead_id, "title": deal.title,
        "amount": str(deal.amount), "currency": deal.currency, "source": deal.source,
        "external_id": deal.external_id, "via": via, "actor_id": actor.pk if actor else None,
        "at": _json_time(deal.created_at),
    }


def _record(deal: Deal, summary: str, actor: User | None) -> None:
    if deal.contact_id:
        activity_record(contact=deal.contact, kind=Activity.Kind.DEAL, summary=summary, detail=deal, author=actor)


def _first_stage(pipeline: Pipeline) -> Stage:
    stage = pipeline.stages.filter(kind=Stage.Kind.OPEN).order_by("position", "id").first()
    if stage is None:
        raise FieldError({"pipeline_id": "this pipeline has no open stage"})
    return stage


def _set_lines(deal: Deal, lines: list[dict]) -> None:
    deal.lines.all().delete()
    DealLineItem.objects.bulk_create([DealLineItem(deal=deal, position=i, **line) for i, line in enumerate(lines)])


@transaction.atomic
def deal_create(*, actor: User | None, pipeline: Pipeline, data: DealData, via: str = "user",
                lead=None, conversation=None) -> Deal:
    """A new deal in the pipeline's first open stage (or `data.stage`), refused (FieldError naming
    each field) when the stage's required fields would be empty.

    Responsible: the one given, else the actor (unless an administrator), else the contact's.
    Department: the responsible's, else the actor's, else the contact's, else the pipeline's.
    With line items the amount is their sum. Writes the first DealStageChange (from none), an
    Activity on the contact's timeline and publishes `deal.created` (which robots read as
    entering the stage)."""
    if not pipeline.is_active:
        raise FieldError({"pipeline_id": "this pipeline is archived"})
    stage = data.stage or _first_stage(pipeline)
    if data.external_id and Deal.objects.filter(pipeline=pipeline, external_id=data.external_id).exists():
        raise FieldError({"external_id": "a deal with this external id is already in the pipeline"})
    responsible = data.responsible
    if responsible is None and actor is not None and not actor.is_admin and "responsible_id" not in data.given:
        responsible = actor
    if responsible is None and data.contact is not None and "responsible_id" not in data.given:
        responsible = data.contact.responsible
    department_id = ((responsible.department_id if responsible else None)
                     or (actor.department_id if actor else None)
                     or (data.contact.department_id if data.contact else None) or pipeline.department_id)
    amount = lines_total(data.lines) if data.lines else data.amount
    custom = {k: v for k, v in data.custom.items() if v is not None}
    # The entered stage's required fields hold for a new deal as for a move (docs/deals.md).
    required_check(stage, DealValues(
        amount=amount, responsible_id=responsible.pk if responsible else None,
        company_id=data.company.pk if data.company else None, contact_id=data.contact.pk if data.contact else None,
        source=data.source, has_lines=bool(data.lines), custom=custom))
    now = timezone.now()
    deal = Deal.objects.create(
        pipeline=pipeline, stage=stage, contact=data.contact, company=data.company, lead=lead,
        conversation=conversation, title=data.title, amount=amount, currency=data.currency,
        responsible=responsible, department_id=department_id, source=data.source, utm=data.utm,
        custom=custom, external_id=data.external_id,
        stage_entered_at=now, created_at=now, created_by=actor,
        closed_at=now if stage.kind in Stage.CLOSED else None,
    )
    if data.lines:
        _set_lines(deal, data.lines)
    DealStageChange.objects.create(deal=deal, from_stage=None, to_stage=stage, actor=actor, via=via, at=now)
    _record(deal, _("Deal “%(title)s” created at the stage “%(stage)s”") % {"title": deal.title,
                                                                               "stage": stage.name}, actor)
    events.publish("deal.created", subject=deal, data=_created_data(deal, via=via, actor=actor), actor=actor,
                   at=now)
    return deal


TRACKED = ("title", "amount", "currency", "contact", "company", "responsible", "source", "utm", "external_id")


@transaction.atomic
def deal_update(*, actor: User | None, deal: Deal, data: DealData, via: str = "user") -> Deal:
    """Changes the fields that were given (a stage is changed by `deal_move_to_stage` only).

    Custom values merge into the stored ones (null removes one). The responsible's department
    becomes the deal's. Given lines replace the deal's and set the amount to their sum; a deal
    with lines refuses an amount of its own. Publishes `deal.updated` with the changed names."""
    deal = Deal.objects.select_for_update().get(pk=deal.pk)
    changed: list[str] = []
    for name in TRACKED:
        is_ref = name in ("contact", "company", "responsible")
        key = f"{name}_id" if is_ref else name
        if key not in data.given:
            continue
        new = getattr(data, name)
        if getattr(deal, key) != ((new.pk if new else None) if is_ref else new):
            setattr(deal, name, new)
            changed.append(name)
    if "contact_id" in data.given and "company_id" not in data.given and data.contact is not None \
            and deal.company_id != data.contact.company_id:
        deal.company = data.contact.company
        changed.append("company")
    if "responsible" in changed and deal.responsible is not None and deal.responsible.department_id:
        deal.department_id = deal.responsible.department_id
    if "custom" in data.given:
        custom = dict(deal.custom)
        for key, value in data.custom.items():
            if custom.get(key) != value:
                changed.append(f"custom.{key}")
                if value is None:
                    custom.pop(key, None)
                else:
                    custom[key] = value
        deal.custom = custom
    if data.lines is not None:
        changed.append("lines")
        _set_lines(deal, data.lines)
        if data.lines:
            total = lines_total(data.lines)
            if total != deal.amount:
                deal.amount = total
                if "amount" not in changed:
                    changed.append("amount")
    elif "amount" in changed and deal.lines.exists():
        raise FieldError({"amount": "the amount of a deal with line items is their sum: change the lines"})
    if data.external_id and "external_id" in changed and Deal.objects.filter(
            pipeline_id=deal.pipeline_id, external_id=data.external_id).exclude(pk=deal.pk).exists():
        raise FieldError({"external_id": "a deal with this external id is already in the pipeline"})
    if not changed:
        return deal
    deal.save()
    events.publish("deal.updated", subject=deal, actor=actor, data={
        "deal_id": deal.pk, "pipeline_id": deal.pipeline_id, "stage_id": deal.stage_id, "changed": changed,
        "via": via, "actor_id": actor.pk if actor else None, "at": _json_time(deal.updated_at)})
    return deal


@transaction.atomic
def deal_lines_set(*, actor: User | None, deal: Deal, lines: list, via: str = "user") -> Deal:
    """Replaces the deal's line items; the amount becomes their sum (an empty list keeps it)."""
    errors: dict[str, str] = {}
    cleaned = _clean_lines(lines, errors)
    if errors:
        raise FieldError(errors)
    return deal_update(actor=actor, deal=deal, data=DealData(lines=cleaned, given={"lines"}), via=via)


def _lost_reason(value) -> LostReason | None:
    if value is None or value == "":
        return None
    if isinstance(value, LostReason):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        reason = LostReason.objects.filter(pk=value, is_active=True).first()
    elif isinstance(value, str):
        # The list is short; compared in Python because SQLite's iexact folds ASCII only ("Дорого").
        wanted = value.strip().casefold()
        reason = next((r for r in LostReason.objects.filter(is_active=True) if r.name.casefold() == wanted), None)
        if reason is None and value.strip().isdigit():
            reason = LostReason.objects.filter(pk=int(value.strip()), is_active=True).first()
    else:
        reason = None
    if reason is None:
        raise FieldError({"lost_reason": "no such reason"})
    return reason


@transaction.atomic
def deal_move_to_stage(*, deal: Deal, stage: Stage, actor: User | None = None, via: str = "user",
                       reason=None, at=None) -> Deal:
    """THE only way a deal changes stage.

    One transaction holding the deal's row (SELECT ... FOR UPDATE on PostgreSQL; SQLite's
    IMMEDIATE transaction serialises writers). Refuses a stage of another pipeline (stage_id)
    and a stage whose required fields are empty on the deal (naming the field). The same stage
    is a no-op (nothing written, nothing published). Entering won or lost sets closed_at (lost
    takes a LostReason by id, name or row); leaving a closed stage clears closed_at and the
    reason. Writes a DealStageChange and an Activity, then publishes `deal.stage_changed`
    inside the transaction, after the row is updated, so robots close and open deadlines with it."""
    deal = Deal.objects.select_for_update(of=("self",)).select_related("contact").get(pk=deal.pk)
    if stage.pipeline_id != deal.pipeline_id:
        raise FieldError({"stage_id": "this stage belongs to another pipeline"})
    if reason not in (None, "") and stage.kind != Stage.Kind.LOST:
        raise FieldError({"lost_reason": "only a lost stage takes a reason"})
    if stage.pk == deal.stage_id:
        return deal
    required_check(stage, DealValues.of(deal))
    lost_reason = _lost_reason(reason) if stage.kind == Stage.Kind.LOST else None
    now = at or timezone.now()
    from_stage_id = deal.stage_id
    deal.stage = stage
    deal.stage_entered_at = now
    deal.is_overdue = False
    deal.closed_at = now if stage.kind in Stage.CLOSED else None
    deal.lost_reason = lost_reason
    deal.save(update_fields=["stage", "stage_entered_at", "is_overdue", "closed_at", "lost_reason", "updated_at"])
    DealStageChange.objects.create(deal=deal, from_stage_id=from_stage_id, to_stage=stage, actor=actor, via=via,
                                   at=now)
    from_name = Stage.objects.filter(pk=from_stage_id).values_list("name", flat=True).first() or ""
    summary = _("Deal “%(title)s” moved: %(from)s → %(to)s") % {"title": deal.title, "from": from_name,
                                                                 "to": stage.name}
    if lost_reason is not None:
        summary += f" ({lost_reason.name})"
    _record(deal, summary, actor)
    events.publish("deal.stage_changed", subject=deal, actor=actor, at=now, data={
        "deal_id": deal.pk, "pipeline_id": deal.pipeline_id, "from_stage_id": from_stage_id,
        "to_stage_id": stage.pk, "to_stage_kind": stage.kind, "via": via,
        "actor_id": actor.pk if actor else None, "lost_reason_id": lost_reason.pk if lost_reason else None,
        "at": _json_time(now)})
    return deal
