"""The contact pages: list and search, card, new/edit forms, duplicate warning, notes, delete.

Views parse the request, call one service or selector and render; values are checked by
`contact_data_clean`, the same function behind the API.
"""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from okno.contacts import services
from okno.contacts.contact_filters import ContactFilters, contact_sort_choices, contacts_listed
from okno.contacts.export_jobs import STREAM_MAX_ROWS
from okno.contacts.forms import (
    HANDLES_MARKER,
    ContactFormValues,
    contact_form_errors,
    contact_form_initial,
    contact_form_parse,
    messenger_kind_choices,
    messenger_label,
    reason_text,
)
from okno.contacts.matching import Candidate, Probe, find_candidates
from okno.contacts.models import Contact, ContactPhone, CustomField, FieldChange, Tag
from okno.contacts.selectors import (
    ContactMerged,
    ServedBy,
    candidates_disclosed,
    contact_get,
    contacts_visible,
)
from okno.core.emails import InvalidEmail, normalize_email
from okno.core.errors import FieldError
from okno.core.phones import try_normalize_phone
from okno.people.models import User
from okno.people.visibility import users_visible_to
from okno.timeline.selectors import timeline_for_card
from okno.timeline.services import note_add

PAGE_SIZE = 50


def _assignable_users(user: User, current: User | None = None) -> list[User]:
    users = list(User.objects.filter(users_visible_to(user), is_active=True).order_by("last_name", "username"))
    if current is not None and current not in users:
        users.insert(0, current)
    return users


@login_required
def contact_list_page(request: HttpRequest) -> HttpResponse:
    # One parse and one queryset for the list and its export (contact_filters.py): they cannot drift.
    filters = ContactFilters.from_query(request.GET)
    qs = contacts_listed(user=request.user, filters=filters)
    page = Paginator(qs.prefetch_related("phones", "emails", "tags"), PAGE_SIZE).get_page(request.GET.get("page"))
    query = filters.query()
    context = {
        "page": page, "q": filters.q, "tag": filters.tag, "responsible": filters.responsible, "sort": filters.sort,
        "sorts": contact_sort_choices(),
        "tags": Tag.objects.order_by("name"), "users": _assignable_users(request.user),
        "query_without_page": _query_without_page(request),
        "export_xlsx": urlencode({**query, "format": "xlsx"}), "export_csv": urlencode({**query, "format": "csv"}),
        "export_stream_max": STREAM_MAX_ROWS,
    }
    if request.htmx and request.htmx.target == "contact-results":
        return render(request, "contacts/_list_results.html", context)
    return render(request, "contacts/list.html", context)


def _query_without_page(request: HttpRequest) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


def _field_labels() -> dict[str, str]:
    labels = {f.name: str(f.verbose_name) for f in Contact._meta.get_fields() if hasattr(f, "verbose_name")}
    labels.update({
        "phones": _("phones"), "emails": _("e-mails"), "handles": _("messengers"), "tags": _("tags"),
        "created": _("card created"), "status": _("status"), "responsible": _("responsible"), "company": _("company"),
    })
    labels.update({f"custom.{f.key}": f.label for f in CustomField.objects.all()})
    return labels



def _visible_or_redirect(request: HttpRequest, pk: int):
    try:
        return contact_get(user=request.user, pk=pk), None
    except ContactMerged as merged:
        return None, redirect("contacts:card", pk=merged.kept_id)


@login_required
def contact_card(request: HttpRequest, pk: int) -> HttpResponse:
    contact, moved = _visible_or_redirect(request, pk)
    if moved:
        return moved
    tab = request.GET.get("tab", "timeline")
    specs = list(CustomField.objects.all())
    handles = list(contact.handles.all())
    for h in handles:
        h.label = messenger_label(h.kind)
    context = {
        "contact": contact, "tab": tab,
        "phones": contact.phones.all(), "emails": contact.emails.all(), "handles": handles,
        "tags": contact.tags.order_by("name"),
        "custom": [(s, contact.custom.get(s.key)) for s in specs if contact.custom.get(s.key) not in (None, "")],
    }
    shown, served = candidates_disclosed(user=request.user,
                                         candidates=find_candidates(Probe.of(contact), exclude_ids={contact.pk}))
    context.update(duplicates=_describe(request.user, shown), served_by_texts=[served_by_text(i) for i in served])
    if tab == "history":
        labels = _field_labels()
        history = list(FieldChange.objects.filter(contact=contact).select_related("user")[:300])
        for change in history:
            change.label = labels.get(change.field, change.field)
        context["history"] = history
    else:
        context["activities"] = timeline_for_card(contact=contact)
    if request.htmx and request.htmx.target == "card-tab":
        return render(request, "contacts/_card_tab.html", context)
    return render(request, "contacts/card.html", context)


def served_by_text(item: ServedBy) -> str:
    """"Already served by …; ask them", in the user's language."""
    if item.responsible and item.department:
        return _("This customer is already served by %(name)s (%(department)s); ask them.") % {
            "name": item.responsible, "department": item.department}
    if item.responsible:
        return _("This customer is already served by %(name)s; ask them.") % {"name": item.responsible}
    if item.department:
        return _("This customer is already served by the department %(department)s; ask them.") % {
            "department": item.department}
    return _("This customer already has a card you cannot see; ask an administrator.")


def _describe(user: User, candidates: list[Candidate]) -> list[dict]:
    """Candidates the user may see, with the card to link and reasons in the user's language."""
    cards = contacts_visible(user=user).select_related("company").in_bulk([c.contact_id for c in candidates])
    return [
        {"contact": cards[c.contact_id], "level": c.level, "score": c.score,
         "reasons": [reason_text(r) for r in c.reasons]}
        for c in candidates if c.contact_id in cards
    ]


@login_required
@require_POST
def check_duplicates(request: HttpRequest) -> HttpResponse:
    """The fragment the new-contact form asks for while a person types.

    It reads the half-filled form leniently (a phone still being typed is just skipped).
    Cards the user may see are listed; a certain or likely match in another department
    only says who serves that customer, with no link, name or reasons (docs/duplicates.md).
    """
    post = request.POST
    phones = [p.e164 for p in (try_normalize_phone(n) for n in post.getlist("phones") if n.strip()) if p]
    emails = []
    for raw in post.getlist("emails"):
        try:
            emails.append(normalize_email(raw))
        except InvalidEmail:
            continue
    probe = Probe(
        first_name=post.get("first_name", "").strip(), last_name=post.get("last_name", "").strip(),
        middle_name=post.get("middle_name", "").strip(), phones=phones, emails=emails,
        company=post.get("company", "").strip(), city=post.get("city", "").strip(),
    )
    exclude = post.get("contact_id", "")
    exclude_ids = {int(exclude)} if exclude.isdigit() else set()
    shown, served = candidates_disclosed(user=request.user, candidates=find_candidates(probe, exclude_ids=exclude_ids))
    described = _describe(request.user, shown)
    return render(request, "contacts/_duplicate_warning.html", {
        "duplicates": described, "served_by": served, "served_by_texts": [served_by_text(i) for i in served],
        "editing_id": next(iter(exclude_ids), None),
        "merge_ids": ",".join(str(d["contact"].pk) for d in described),
    })


def _form_context(request: HttpRequest, values: ContactFormValues, contact: Contact | None = None) -> dict:
    if not values.phones:
        values.phones = [{"number": "", "kind": ContactPhone.Kind.MOBILE}]
    if not values.emails:
        values.emails = [{"email": ""}]
    if not values.handles:
        values.handles = [{"kind": services.MESSENGER_KINDS[0], "handle": ""}]
    specs = list(CustomField.objects.all())
    for spec in specs:
        spec.value = values.custom.get(spec.key, "")
        spec.error = values.errors.get(f"custom.{spec.key}")
    return {
        "values": values, "contact": contact, "custom_fields": specs,
        "phone_kinds": ContactPhone.Kind.choices,
        "handle_kinds": messenger_kind_choices(), "handle_kind_values": services.MESSENGER_KINDS,
        "handles_marker": HANDLES_MARKER,
        "users": _assignable_users(request.user, contact.responsible if contact else None),
        "has_errors": bool(values.errors) or any(
            r.get("error") for r in values.phones + values.emails + values.handles),
    }


@login_required
def contact_new(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        values = ContactFormValues(scalars={"first_name": request.GET.get("first_name", "")})
        if request.GET.get("phone"):
            values.phones = [{"number": request.GET["phone"], "kind": ContactPhone.Kind.MOBILE}]
        return render(request, "contacts/form.html", _form_context(request, values))
    raw, values = contact_form_parse(request.POST)
    try:
        data = services.contact_data_clean(raw, actor=request.user)
    except FieldError as exc:
        contact_form_errors(values, exc.by_field)
        return render(request, "contacts/form.html", _form_context(request, values), status=400)
    contact, candidates = services.contact_create(actor=request.user, data=data)
    shown, served = candidates_disclosed(user=request.user, candidates=candidates)
    if shown:
        messages.warning(request, _("Saved. This customer may have another card: see the possible duplicates below."))
    for item in served:
        messages.warning(request, served_by_text(item))
    if not shown and not served:
        messages.success(request, _("Contact saved."))
    return redirect("contacts:card", pk=contact.pk)


@login_required
def contact_edit(request: HttpRequest, pk: int) -> HttpResponse:
    contact, moved = _visible_or_redirect(request, pk)
    if moved:
        return moved
    if request.method != "POST":
        return render(request, "contacts/form.html", _form_context(request, contact_form_initial(contact), contact))
    raw, values = contact_form_parse(request.POST)
    # A manager may keep a colleague as responsible without being allowed to assign them.
    if raw["responsible_id"] == contact.responsible_id:
        raw.pop("responsible_id")
    try:
        data = services.contact_data_clean(raw, actor=request.user, partial=True)
    except FieldError as exc:
        contact_form_errors(values, exc.by_field)
        return render(request, "contacts/form.html", _form_context(request, values, contact), status=400)
    services.contact_update(actor=request.user, contact=contact, data=data)
    messages.success(request, _("Changes saved."))
    return redirect("contacts:card", pk=contact.pk)


@login_required
def contact_delete(request: HttpRequest, pk: int) -> HttpResponse:
    contact, moved = _visible_or_redirect(request, pk)
    if moved:
        return moved
    if request.method != "POST":
        return render(request, "contacts/delete.html", {"contact": contact})
    services.contact_delete(actor=request.user, contact=contact)
    messages.success(request, _("Contact %(name)s deleted.") % {"name": contact})
    return redirect("contacts:list")


@login_required
@require_POST
def add_note(request: HttpRequest, pk: int) -> HttpResponse:
    contact, moved = _visible_or_redirect(request, pk)
    if moved:
        return moved
    body = request.POST.get("body", "").strip()
    error = None
    if not body:
        error = reason_text("a note cannot be empty")
    else:
        note_add(contact=contact, body=body, author=request.user)
    if request.htmx:
        return render(request, "contacts/_timeline.html", {
            "contact": contact, "activities": timeline_for_card(contact=contact), "note_error": error,
            "note_body": request.POST.get("body", "") if error else "",
        })  # 200 even with an error: htmx does not swap 4xx answers by default
    if error:
        messages.error(request, error)
    return redirect("contacts:card", pk=contact.pk)
