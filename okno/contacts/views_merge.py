"""The merge page: cards side by side, the card that stays, a choice per conflicting field; and undo."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from okno.contacts.merge import CHOOSABLE, contact_merge, contact_merge_undo
from okno.contacts.models import Contact, ContactMerge, CustomField
from okno.contacts.selectors import ContactMerged, contact_get
from okno.core.errors import ApiError
from okno.timeline.models import Activity


def _parse_ids(raw: str) -> list[int]:
    return list(dict.fromkeys(int(p) for p in raw.replace(" ", "").split(",") if p.isdigit()))


def _cards(request: HttpRequest, ids: list[int]) -> tuple[list[Contact], list[str], int]:
    """The cards the user may see, in the order asked; merged or missing ones become errors."""
    cards, errors, status = [], [], 200
    for pk in ids:
        try:
            cards.append(contact_get(user=request.user, pk=pk))
        except ContactMerged as merged:
            errors.append(_("Card #%(id)s was already merged into #%(kept)s.") % {"id": pk, "kept": merged.kept_id})
            status = max(status, 409)
        except Http404:
            errors.append(_("No such card: #%(id)s.") % {"id": pk})
            status = 404
    return cards, errors, status


def _display(card: Contact, name: str) -> str:
    if name == "company":
        return card.company.name if card.company_id else ""
    if name == "responsible":
        return card.responsible.display_name if card.responsible_id else ""
    if name.startswith("custom."):
        value = (card.custom or {}).get(name[7:])
        return "" if value is None else str(value)
    return getattr(card, name)


def _field_rows(cards: list[Contact], chosen: dict[str, int]) -> list[dict]:
    """One row per field any card fills; `conflict` when the filled values differ."""
    labels = {name: capfirst(Contact._meta.get_field(name).verbose_name) for name in CHOOSABLE}
    specs = {f.key: f.label for f in CustomField.objects.all()}
    keys = dict.fromkeys(k for c in cards for k in (c.custom or {}))
    labels.update({f"custom.{k}": specs.get(k, k) for k in keys})
    rows = []
    for name, label in labels.items():
        values = [(card.pk, _display(card, name)) for card in cards]
        filled = {v for _pk, v in values if v}
        if filled:
            rows.append({"name": name, "label": label, "values": values, "conflict": len(filled) > 1,
                         "chosen": chosen.get(name)})
    return rows


def _render(request: HttpRequest, ids: list[int], *, keep: int | None = None, chosen: dict | None = None,
            errors: list[str] | None = None, status: int = 200) -> HttpResponse:
    cards, card_errors, card_status = _cards(request, ids)
    errors = [*card_errors, *(errors or [])]
    if len(cards) < 2 and not errors:
        errors.append(_("Choose at least two cards to merge."))
        status = max(status, 400)
    for card in cards:
        card.activity_count = Activity.objects.filter(contact=card).count()
    context = {
        "cards": cards, "ids": ",".join(str(c.pk) for c in cards), "errors": errors,
        "keep": keep if keep in {c.pk for c in cards} else (cards[0].pk if cards else None),
        "rows": _field_rows(cards, chosen or {}),
    }
    return render(request, "contacts/merge.html", context, status=max(status, card_status))


@login_required
def merge_page(request: HttpRequest) -> HttpResponse:
    """GET shows the cards; POST merges them and goes to the card that stays, with an Undo button."""
    if request.method != "POST":
        ids = _parse_ids(request.GET.get("ids", ""))
        keep = request.GET.get("keep", "")
        return _render(request, ids, keep=int(keep) if keep.isdigit() else None)
    ids = _parse_ids(request.POST.get("ids", ""))
    keep_raw = request.POST.get("keep", "")
    keep = int(keep_raw) if keep_raw.isdigit() else None
    chosen = {k[6:]: int(v) for k, v in request.POST.items() if k.startswith("field-") and v.isdigit()}
    if keep is None or keep not in ids:
        return _render(request, ids, chosen=chosen, errors=[_("Choose the card that stays.")], status=400)
    try:
        merge = contact_merge(actor=request.user, keep_id=keep, merge_ids=[i for i in ids if i != keep],
                              fields=chosen)
    except ApiError as exc:
        reasons = [e["reason"] for e in exc.errors] or [exc.detail]
        return _render(request, ids, keep=keep, chosen=chosen, errors=reasons, status=exc.status)
    notice = render_to_string("contacts/_merge_done.html", {"merge": merge, "count": len(merge.merged_ids)},
                              request=request)
    messages.success(request, mark_safe(notice))  # noqa: S308 - our own template, escaped inside
    return redirect("contacts:card", pk=merge.kept_id)


@login_required
@require_POST
def merge_undo(request: HttpRequest, merge_id: int) -> HttpResponse:
    try:
        merge = contact_merge_undo(actor=request.user, merge_id=merge_id)
    except ApiError as exc:
        if exc.status == 404:
            raise Http404("No such merge") from None
        messages.error(request, exc.detail)
        return redirect("contacts:card", pk=ContactMerge.objects.values_list("kept_id", flat=True).get(pk=merge_id))
    messages.success(request, _("Merge undone: the cards are separate again."))
    return redirect("contacts:card", pk=merge.kept_id)
