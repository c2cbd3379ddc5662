"""Demo data for `make demo`: a company of ~60 people and a realistic customer base.

Cards go through `contact_data_clean` like every other door, but are written in bulk by the
import's `contacts_bulk_create`: 20,000 one-by-one `contact_create` calls would take minutes
on SQLite. The duplicate scan picks the cards up later, since every new card is `dedup_dirty`.
"""

import datetime
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.utils import timezone, translation

from okno.contacts.custom_fields import custom_field_create
from okno.contacts.import_bulk import contacts_bulk_create
from okno.contacts.models import Contact, CustomField, FieldChange, Tag
from okno.contacts.services import contact_data_clean
from okno.demo.companies import companies_seed
from okno.demo.data import CUSTOM_FIELDS, TAGS, Generator, RawContact, translit
from okno.demo.deals import DealsReport, deals_seed
from okno.demo.documents import documents_seed
from okno.demo.history import HistoryReport, history_seed
from okno.demo.history_year import YearReport, history_year_seed
from okno.demo.stores import stores_seed
from okno.demo.work_queue import work_queue_seed
from okno.people.models import Department, User
from okno.people.services import department_create
from okno.timeline.models import Activity, Note

DEMO_ADMIN = "admin"
DEMO_PASSWORD = "okno-demo"
# (department, parent, role of its members, how many members besides the head, members share cards)
DEPARTMENTS = [
    ("Продажи", None, User.Role.MANAGER, 0, True),
    ("Опт", "Продажи", User.Role.MANAGER, 11, True),
    ("Розница", "Продажи", User.Role.MANAGER, 13, False),
    ("Сервис", None, User.Role.MANAGER, 9, True),
    ("Колл-центр", None, User.Role.OPERATOR, 14, True),
    ("Маркетинг", None, User.Role.MANAGER, 6, True),
]
BATCH = 2000


@dataclass
class SeedReport:
    seeded: bool
    seconds: float = 0.0
    departments: int = 0
    users: int = 0
    contacts: int = 0
    notes: int = 0
    # (original contact id, duplicate contact id, kind) for every duplicate planted
    duplicates: list[tuple[int, int, str]] = field(default_factory=list)
    samples: list[User] = field(default_factory=list)  # one login per role and department
    deals: DealsReport | None = None
    history: HistoryReport | None = None
    year: YearReport | None = None


def demo_is_seeded() -> bool:
    """Demo data goes only into an empty database: any user means it is seeded, or real."""
    return User.objects.exists()


def demo_admin_password_works(password: str = DEMO_PASSWORD) -> bool:
    admin = User.objects.filter(username=DEMO_ADMIN, is_active=True).first()
    return admin is not None and admin.check_password(password)


def demo_seed(
    *, contacts: int = 20_000, seed: int | None = None, duplicate_share: float = 0.03,
    password: str = DEMO_PASSWORD, progress: Callable[[str], None] | None = None,
) -> SeedReport:
    """Seeds an empty database once; a second call changes nothing (see `demo_is_seeded`).

    One transaction: an interrupted seed leaves the database empty, so the next run seeds again
    instead of finding half a company.
    """
    started = time.monotonic()
    say = (lambda msg: progress(f"{msg} ({time.monotonic() - started:.1f} s)")) if progress else (lambda _msg: None)
    # The company's own language: the timeline lines and notes the services write while seeding
    # are data in that language, whatever language the calling thread happened to have active.
    with transaction.atomic(), translation.override(settings.LANGUAGE_CODE):
        if demo_is_seeded():
            return SeedReport(seeded=False)
        report = SeedReport(seeded=True)
        gen = Generator(seed)
        admin, employees = _seed_people(gen, password, report)
        say(f"{report.users} people in {report.departments} departments")
        _seed_definitions(admin)
        raw = _generate_contacts(gen, contacts, duplicate_share)
        owners = [u for u in employees if u.role != User.Role.HEAD] or [admin]
        _seed_contacts(raw, owners, report, say)
        say(f"{companies_seed(gen, seed=seed)} companies with requisites")
        report.deals = deals_seed(admin=admin, contacts=contacts, seed=seed, say=say)
        report.history = history_seed(admin=admin, seed=seed, say=say)
        # A year before those six weeks, so the reports look real; smaller with a smaller demo.
        report.year = history_year_seed(seed=seed, say=say, scale=min(1.0, contacts / 20_000))
        stores_seed(admin=admin, seed=seed, say=say)
        documents_seed(admin=admin, seed=seed, say=say)
        work_queue_seed(admin=admin, seed=seed, say=say)
    report.seconds = time.monotonic() - started
    return report


# -- people -------------------------------------------------------------------------------------

def _seed_people(gen: Generator, password: str, report: SeedReport) -> tuple[User, list[User]]:
    # PBKDF2 costs ~0.3 s per hash; sixty people share one hash of the one demo password.
    hashed = make_password(password)
    admin = User.objects.create(
        username=DEMO_ADMIN, password=hashed, first_name="Администратор", role=User.Role.ADMIN,
        is_staff=True, is_superuser=True, email="admin@okno.example",
    )
    departments: dict[str, Department] = {}
    taken = {DEMO_ADMIN}
    employees: list[User] = []
    for name, parent, role, members, share in DEPARTMENTS:
        dept = department_create(actor=admin, name=name, parent_id=departments[parent].pk if parent else None)
        if not share:
            Department.objects.filter(pk=dept.pk).update(share_contacts=False)
        departments[name] = dept
        roles = [User.Role.HEAD] + [role] * members
        for i, user_role in enumerate(roles):
            last, first, _middle, _male = gen.person_name()
            username = _username(first, last, taken)
            user = User(
                username=username, password=hashed, first_name=first, last_name=last,
                email=f"{username}@okno.example", department=dept, role=user_role,
            )
            employees.append(user)
            if i < 2:
                report.samples.append(user)
    User.objects.bulk_create(employees)
    employees = list(User.objects.exclude(pk=admin.pk).order_by("pk"))
    by_name = {u.username: u for u in employees}
    report.samples = [admin] + [by_name[u.username] for u in report.samples if u.username in by_name]
    report.departments = len(departments)
    report.users = len(employees) + 1
    return admin, employees


def _username(first: str, last: str, taken: set[str]) -> str:
    base = f"{translit(last).lower()}.{translit(first)[0].lower()}"
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}{n}"
    taken.add(name)
    return name


def _seed_definitions(admin: User) -> None:
    for position, (key, label, kind, choices) in enumerate(CUSTOM_FIELDS):
        if not CustomField.objects.filter(key=key).exists():
            custom_field_create(actor=admin, key=key, label=label, type=kind, choices=choices, position=position)
    for name in TAGS:
        Tag.objects.get_or_create(name=name)


# -- contacts -----------------------------------------------------------------------------------

def _generate_contacts(gen: Generator, total: int, duplicate_share: float) -> list[RawContact]:
    dup_count = round(total * duplicate_share)
    gen.make_companies(max(3, total // 8))
    originals = [gen.contact() for _ in range(total - dup_count)]
    raw = list(originals)
    if originals and dup_count:
        # About a tenth of the duplicated customers were typed in three times.
        picks = gen.rng.sample(range(len(originals)), min(len(originals), max(1, round(dup_count * 0.9))))
        while len(picks) < dup_count:
            picks.append(gen.rng.choice(picks))
        raw += [gen.duplicate(originals[i], i) for i in picks]
    return raw


@contextmanager
def _own_timestamps(*fields) -> Iterator[None]:
    """Lets bulk_create keep the dates we give (a base grown over 18 months, not in one second)."""
    saved = [(f, f.auto_now, f.auto_now_add) for f in fields]
    for f in fields:
        f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, auto_now, auto_now_add in saved:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add


def _seed_contacts(raw: list[RawContact], owners: list[User], report: SeedReport, say) -> None:
    now = timezone.now()
    ids: list[int] = []
    note_type = ContentType.objects.get_for_model(Note)
    for start in range(0, len(raw), BATCH):
        chunk = raw[start:start + BATCH]
        cleaned = [contact_data_clean(r.data, actor=None) for r in chunk]
        for r, data in zip(chunk, cleaned, strict=True):
            # One card in forty waits for an owner: only administrators see those.
            data.responsible = owners[r.owner_index % len(owners)] if r.owner_index % 40 else None
        # The import's bulk path writes exactly what contact_create writes (its tests say so).
        contacts = contacts_bulk_create(actor=None, items=cleaned)
        for r, contact in zip(chunk, contacts, strict=True):
            contact.created_at = contact.updated_at = now - datetime.timedelta(
                days=r.created_days_ago, minutes=r.owner_index % 1440)
        _backdate(contacts)
        _seed_notes(chunk, contacts, note_type)
        ids += [c.pk for c in contacts]
        report.notes += sum(len(r.notes) for r in chunk)
        say(f"{start + len(chunk)} contacts")
    report.contacts = len(raw)
    report.duplicates = [(ids[r.duplicate_of], ids[i], r.duplicate_kind) for i, r in enumerate(raw)
                         if r.duplicate_of is not None]


def _backdate(contacts: list[Contact]) -> None:
    """Spreads the cards (and their "created" history) over 18 months, as a real base grew.

    One parameterised UPDATE per row through executemany: Django's bulk_update builds a CASE
    per row and took longer than writing the cards themselves.
    """
    ops = connection.ops
    rows = [(ops.adapt_datetimefield_value(c.created_at), c.pk) for c in contacts]
    contact_table, history_table = ops.quote_name(Contact._meta.db_table), ops.quote_name(FieldChange._meta.db_table)
    with connection.cursor() as cursor:
        cursor.executemany(f"UPDATE {contact_table} SET created_at = %s, updated_at = %s WHERE id = %s",
                           [(at, at, pk) for at, pk in rows])
        cursor.executemany(f"UPDATE {history_table} SET at = %s WHERE contact_id = %s AND field = 'created'", rows)


def _seed_notes(chunk: list[RawContact], contacts: list[Contact], note_type: ContentType) -> None:
    notes = []
    for r, contact in zip(chunk, contacts, strict=True):
        for n, body in enumerate(r.notes):
            at = contact.created_at + datetime.timedelta(days=n + 1, hours=n * 3)
            notes.append((contact, Note(body=body, author=contact.responsible, created_at=at)))
    with _own_timestamps(Note._meta.get_field("created_at")):
        Note.objects.bulk_create([n for _c, n in notes])
    Activity.objects.bulk_create([
        Activity(contact=c, kind=Activity.Kind.NOTE, summary=n.body[:500], author=n.author,
                 occurred_at=n.created_at, detail_type=note_type, detail_id=n.pk)
        for c, n in notes
    ])
