"""Quick fields: the few order details a manager changes most, edited in place on the board's
cards and the deal page.

They are the order keys the stores' adapters fill (docs/stores.md): the delivery date, the
delivery address and the comment, each shown only when the deal's pipeline has a field
(`PipelineField`) of that key, whose type validates the value. A value is saved as any deal field
is (`deal_data_clean` + `deal_update`: `deal.updated` with `custom.<key>`, which robots' conditions
read) and the change is written on the customer's timeline.
"""

from datetime import date, datetime

from django.db import transaction
from django.utils.formats import date_format, get_format
from django.utils.translation import gettext as _

from okno.core.errors import FieldError
from okno.deals.deal_services import deal_data_clean, deal_update
from okno.deals.models import Deal, Pipeline, PipelineField
from okno.people.models import User
from okno.timeline.models import Activity
from okno.timeline.services import activity_record

# In the order a card shows them. The stores write these keys (okno/stores/sync.py `_custom`).
QUICK_KEYS = ("delivery_date", "delivery_address", "comment")
# A timeline line quotes at most this much of a changed text (an address, a long comment).
SUMMARY_VALUE_CHARS = 120


def quick_fields(pipeline: Pipeline) -> list[PipelineField]:
    """The pipeline's fields that are quick, in QUICK_KEYS' order; empty when it has none."""
    found = {f.key: f for f in PipelineField.objects.filter(pipeline_id=pipeline.pk, key__in=QUICK_KEYS)}
    return [found[key] for key in QUICK_KEYS if key in found]


def quick_field_get(pipeline: Pipeline, key: str) -> PipelineField | None:
    return next((f for f in quick_fields(pipeline) if f.key == key), None) if key in QUICK_KEYS else None


def quick_value_text(spec: PipelineField, value) -> str:
    """A stored value as the reader's language writes it (a date "2026-12-06" is "06.12.2026" in
    Russian, "6 Dec 2026" in English: okno/core/formats); "" for an empty one."""
    if value is None or value == "":
        return ""
    if spec.type == PipelineField.Type.DATE:
        try:
            return date_format(date.fromisoformat(str(value)), "SHORT_DATE_FORMAT")
        except ValueError:
            return str(value)
    return str(value)


def _as_iso_date(value: str) -> str:
    """A typed date in ISO or in the reader's language's input formats ("06.12.2026") as ISO;
    anything else unchanged, for the field's type to refuse with its reason."""
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        pass
    for fmt in get_format("DATE_INPUT_FORMATS"):
        try:
            return datetime.strptime(value, fmt).date().isoformat()
        except ValueError:
            continue
    return value


def _short(text: str) -> str:
    return text if len(text) <= SUMMARY_VALUE_CHARS else text[:SUMMARY_VALUE_CHARS - 1] + "…"


@transaction.atomic
def deal_quick_field_set(*, actor: User | None, deal: Deal, key: str, value: str, via: str = "user") -> Deal:
    """Sets one quick field of the deal; an empty value clears it.

    Refused (FieldError naming `custom.<key>`) when the pipeline has no such quick field or the
    value does not fit the field's type; nothing is written then. A change goes through
    `deal_update` (publishing `deal.updated`) and is written on the customer's timeline with the
    old and the new value."""
    spec = quick_field_get(deal.pipeline, key)
    if spec is None:
        raise FieldError({f"custom.{key}": "unknown custom field"})
    value = (value or "").strip()
    if spec.type == PipelineField.Type.DATE and value:
        value = _as_iso_date(value)
    before = (deal.custom or {}).get(key)
    data = deal_data_clean({"custom": {key: value}}, pipeline=deal.pipeline, partial=True, actor=actor)
    deal = deal_update(actor=actor, deal=deal, data=data, via=via)
    after = (deal.custom or {}).get(key)
    if after != before and deal.contact_id:
        summary = _("“%(field)s” of the deal “%(title)s”: %(before)s → %(after)s") % {
            "field": spec.label, "title": deal.title, "before": _short(quick_value_text(spec, before)) or "—",
            "after": _short(quick_value_text(spec, after)) or "—"}
        activity_record(contact=deal.contact, kind=Activity.Kind.DEAL, summary=summary, detail=deal, author=actor)
    return deal
