"""Reading contacts: for a person always through the visibility rule; for the system's batch
paths (the inbox, imports), `rows_of_active_cards`, which sees every active card."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from okno.contacts.matching import Candidate
from okno.contacts.models import Company, Contact
from okno.contacts.search import search
from okno.core.bulk import chunks
from okno.core.emails import InvalidEmail, normalize_email
from okno.core.phones import try_normalize_phone
from okno.core.text import fold
from okno.people.models import User
from okno.people.visibility import contact_visibility_q


def contacts_visible(*, user: User) -> QuerySet[Contact]:
    return Contact.objects.filter(contact_visibility_q(user), status=Contact.Status.ACTIVE)


def rows_of_active_cards(rows: QuerySet, field: str, values: Iterable, columns: Sequence[str]) -> list[tuple]:
    """`columns` and then `contact_id` of the `rows` (phones, e-mails, handles) whose `field` is
    one of `values` and whose card is active, ordered by card.

    Two look-ups by index, the rows by value and then their cards by id, rather than one join:
    given a long list of values, a planner without statistics (SQLite never has any unless
    analysed; PostgreSQL's may date from when the tables were empty) walked every active card
    through the status index and probed its rows. At a million cards that was 0.3 s per look-up
    of 200 values, most of the worker's time for a batch of new customers on SQLite."""
    found: list[tuple] = []
    for chunk in chunks(sorted(set(values))):
        found += rows.filter(**{f"{field}__in": chunk}).values_list(*columns, "contact_id")
    active: set[int] = set()
    for chunk in chunks(sorted({row[-1] for row in found})):
        active.update(Contact.objects.filter(pk__in=chunk, status=Contact.Status.ACTIVE).values_list("pk", flat=True))
    return sorted((row for row in found if row[-1] in active), key=lambda row: row[-1])


def contact_list(
    *, user: User, q: str = "", phone: str = "", email: str = "", tag: str = "", responsible_id: int | None = None
) -> QuerySet[Contact]:
    """The list and search: by phone in any format, by e-mail in any case, and the search box `q`
    (search.py), whose matches come first by rank (exact, part, typo)."""
    qs = contacts_visible(user=user).select_related("company", "responsible")
    if phone:
        parsed = try_normalize_phone(phone)
        qs = qs.filter(phones__e164=parsed.e164) if parsed else qs.none()
    if email:
        try:
            qs = qs.filter(emails__email=normalize_email(email))
        except InvalidEmail:
            qs = qs.none()
    if q:
        # Parts of phones and e-mails, words of names and companies, a typo: okno/contacts/search.py.
        found = search(q)
        if found.ids is None:
            return qs.none()
        qs = qs.filter(pk__in=found.ids).annotate(search_rank=found.rank()).order_by(
            "search_rank", "-created_at", "-id")
    if tag:
        qs = qs.filter(tags__name=tag)
    if responsible_id:
        qs = qs.filter(responsible_id=responsible_id)
    return qs.distinct() if tag else qs


def contact_get(*, user: User, pk: int) -> Contact:
    """One card the user may see, or 404 (also for other departments' cards).

    A merged-away card raises ContactMerged so that callers redirect to the kept one.
    """
    contact = (
        Contact.objects.filter(contact_visibility_q(user))
        .select_related("company", "responsible", "department")
        .filter(pk=pk)
        .first()
    )
    if contact is None or contact.status == Contact.Status.DELETED:
        raise Http404("No such contact")
    if contact.status == Contact.Status.MERGED and contact.merged_into_id:
        # Only to a card the user may see: naming another department's card would disclose it.
        kept = Contact.objects.filter(contact_visibility_q(user), pk=contact.merged_into_id)
        if not kept.exclude(status=Contact.Status.DELETED).exists():
            raise Http404("No such contact")
        raise ContactMerged(contact.merged_into_id)
    return contact


# The levels for which a match in another department is told ("served by"): a shared phone or
# e-mail, or a similar name at the same company. A mere namesake ("possible") is not told: it
# would disclose that someone of that name is a customer, for the price of typing a name.
SERVED_BY_LEVELS = ("certain", "likely")


@dataclass(frozen=True)
class ServedBy:
    """All a person learns of a matching card they may not see: whom to ask (docs/duplicates.md)."""

    responsible: str
    department: str

    def as_dict(self) -> dict:
        return {"responsible": self.responsible, "department": self.department}


def candidates_disclosed(*, user: User, candidates: list[Candidate]) -> tuple[list[Candidate], list[ServedBy]]:
    """Splits duplicate candidates by what `user` may learn of them.

    The candidates the user may see come back as they are (id, level, reasons). For the
    certain and likely ones the user may not see, only who serves the customer: the card's
    responsible and department, once per pair, with no id, no level and no reasons (a reason
    repeats the card's phone or e-mail, which the user may not have typed: a likely match
    found by name and company would disclose them)."""
    ids = [c.contact_id for c in candidates]
    visible = set(contacts_visible(user=user).filter(pk__in=ids).values_list("pk", flat=True)) if ids else set()
    shown = [c for c in candidates if c.contact_id in visible]
    hidden = [c.contact_id for c in candidates if c.contact_id not in visible and c.level in SERVED_BY_LEVELS]
    served: list[ServedBy] = []
    cards = Contact.objects.filter(pk__in=hidden).select_related("responsible", "department").order_by("pk")
    for card in cards if hidden else ():
        item = ServedBy(responsible=card.responsible.display_name if card.responsible_id else "",
                        department=card.department.name if card.department_id else "")
        if item not in served:
            served.append(item)
    return shown, served


class ContactMerged(Exception):
    def __init__(self, kept_id: int):
        super().__init__(kept_id)
        self.kept_id = kept_id


def _companies_visible(user: User) -> QuerySet[Company]:
    """A company is seen by its responsible, and through its cards: one active card the user
    sees is enough (docs/companies.md).

    Administrators see every company, also one whose cards were all deleted or merged away.
    """
    if user.is_active and user.is_admin:
        return Company.objects.all()
    if not user.is_authenticated or not user.is_active:
        return Company.objects.none()
    cards = contacts_visible(user=user).filter(company_id__isnull=False).values("company_id")
    return Company.objects.filter(Q(pk__in=cards) | Q(responsible_id=user.pk))


def company_list(*, user: User, q: str = "") -> QuerySet[Company]:
    """Companies by words of the name (any case, ё as е) or by the start of the INN (4 digits or more),
    each with `contacts_count` of cards the user sees."""
    seen = Q(contacts__status=Contact.Status.ACTIVE) & contact_visibility_q(user, prefix="contacts__")
    qs = _companies_visible(user).annotate(contacts_count=Count("contacts", filter=seen))
    digits = q.strip().replace(" ", "")
    if len(digits) >= 4 and digits.isdigit():  # an INN, or its start
        return qs.filter(inn__startswith=digits).order_by("search_name", "pk")
    for word in fold(q).split():
        qs = qs.filter(search_name__contains=word)
    # By the folded name: SQLite orders `name` by code point (every capital before every small
    # letter) and PostgreSQL by collation, so only the folded column reads the same on both.
    return qs.order_by("search_name", "pk")


def company_get(*, user: User, pk: int) -> Company:
    """One company the user may see, or 404: another department's company is not disclosed."""
    company = _companies_visible(user).filter(pk=pk).first()
    if company is None:
        raise Http404("No such company")
    return company


def company_contacts(*, user: User, company: Company) -> QuerySet[Contact]:
    """The company's active cards that the user sees, with what the company page shows of them."""
    return (
        contacts_visible(user=user).filter(company=company)
        .select_related("responsible").prefetch_related("phones")
        .order_by("last_name", "first_name", "pk")
    )
