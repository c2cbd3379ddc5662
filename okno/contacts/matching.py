"""Finding the existing customer before creating one.

Exact matches on a normalised phone or e-mail are "certain". Name matches are found through
blocking keys stored in ContactMatchKey, then scored pair by pair:

- `n:<a>|<b>`: both name skeletons (names.skeleton) sorted, so е/ё, Latin spellings and a swapped
  first/last name file alike. A search probes every key one typo away from its own name
  (names.edit_variants, ~600 keys in one indexed IN), so a typo in either name still meets
  the card while a block stays the size of a set of namesakes, never of a surname.
- `c:<company>|<letter>`: the company plus the first letter of the last or of the first name
  (two keys), so colleagues with similar names meet even with typos in both names.
- `e:<local part>`: ivan.petrov@mail.ru meets ivan.petrov@gmail.com.
- `n:` keys under the full form(s) of a short first name: "Саша Кузнецов" meets "Александр Кузнецов".
- `m:<mailbox>` (core.emails.mailbox_key): one Gmail or Yandex mailbox however its address is spelt.
- `t:<a>|<b>|<city>`: namesakes of one city with a phone, for a number mistyped by one digit.

Levels: "certain" = proof of one person: a shared e-mail or mailbox, a shared personal phone (a
mobile, or the same extension), or a shared landline on cards whose names agree; "likely" = a
similar name (each name at least 75% alike, a short form and its full name 90%) with a shared
company or e-mail name, or the same full name in one city or company with a phone one digit
apart; "possible" = a similar name with nothing else, or with a contradiction (different
patronymic or gender), or a landline shared by cards whose names do not agree ("shared phone").
Name evidence alone scores at most 0.70, under the 0.75 of "likely", so the background scan,
which keeps only likely and certain pairs, needs no `n:` blocks: phones, e-mails, `c:`, `e:`,
`m:` and `t:` blocks find every pair it keeps. docs/duplicates.md gives each rule its reason.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import QuerySet
from rapidfuzz.distance import OSA

from okno.contacts import names
from okno.contacts.models import Contact, ContactEmail, ContactMatchKey, ContactPhone
from okno.core.bulk import chunks
from okno.core.emails import is_aliased, mailbox_key
from okno.core.phones import format_phone, is_personal, one_digit_apart
from okno.core.text import fold

LIKELY = 0.75
POSSIBLE = 0.45
# Each name must be this alike: one typo in a four-letter name, two in an eight-letter one.
TOKEN_GATE = 0.75
# A search reads at most this many key rows: the namesakes of the commonest name, not a surname.
MAX_KEY_ROWS = 3000
MAX_CANDIDATES = 50
_CHUNK = 5000


@dataclass
class Probe:
    """What we know of a would-be or existing customer, already normalised."""

    first_name: str = ""
    last_name: str = ""
    middle_name: str = ""
    phones: list[str] = field(default_factory=list)  # E.164
    emails: list[str] = field(default_factory=list)  # lower-cased
    company: str = ""
    city: str = ""
    contact_id: int | None = None
    # Numbers with an extension match only the same extension: colleagues share a main line.
    phones_ext: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def of(cls, contact: Contact) -> "Probe":
        return cls(
            first_name=contact.first_name,
            last_name=contact.last_name,
            middle_name=contact.middle_name,
            phones=[p.e164 for p in contact.phones.all() if not p.extension],
            emails=[e.email for e in contact.emails.all()],
            company=contact.company.name if contact.company_id else "",
            city=contact.city,
            contact_id=contact.pk,
            phones_ext=[(p.e164, p.extension) for p in contact.phones.all() if p.extension],
        )

    def features(self) -> "Features":
        return features_of(first=self.first_name, last=self.last_name, middle=self.middle_name,
                           company=self.company, city=self.city,
                           phones=[(p, "") for p in self.phones] + list(self.phones_ext),
                           emails=self.emails, contact_id=self.contact_id)


@dataclass(frozen=True)
class Features:
    """A contact reduced to what matching compares."""

    contact_id: int | None
    last: str  # skeletons (names.skeleton)
    first: str
    middle: str
    latin: bool
    gender: str
    company: str
    city: str
    phones: frozenset[tuple[str, str]]  # (e164, extension)
    emails: frozenset[str]
    locals: frozenset[str]
    raw_last: str = ""  # folded, as written
    raw_first: str = ""
    # Skeletons of the full first names the first name stands for (nicknames.py): "sasha" ->
    # {"aleksandr", "aleksandra"}; a full or unknown name stands for itself.
    first_forms: frozenset[str] = frozenset()
    # Mailbox keys (core.emails.mailbox_key) of the addresses at Gmail and Yandex.
    mailboxes: frozenset[str] = frozenset()


def features_of(*, first: str, last: str, middle: str, company: str, city: str, phones, emails,
                contact_id: int | None = None) -> Features:
    raw_last, raw_first, raw_middle = names.split_name(first, last, middle)
    sk_last, sk_first, sk_middle = names.skeleton(raw_last), names.skeleton(raw_first), names.skeleton(raw_middle)
    return Features(
        contact_id=contact_id, last=sk_last, first=sk_first, middle=sk_middle, raw_last=raw_last, raw_first=raw_first,
        latin=names.is_latin(f"{last}{first}"),
        # The last name and patronymic's endings first; else the first name's ("Александра Ким").
        gender=names.gender(sk_last, sk_middle) or names.first_name_gender(sk_first),
        company=names.company_key(company) if company else "", city=fold(city),
        phones=frozenset(phones), emails=frozenset(emails),
        locals=frozenset(x for x in map(names.email_local, emails) if x),
        first_forms=names.full_forms(sk_first) if sk_first else frozenset(),
        mailboxes=frozenset(mailbox_key(e) for e in emails if is_aliased(e)),
    )


@dataclass
class Candidate:
    contact_id: int
    level: str
    score: float
    reasons: list[str]

    def as_dict(self) -> dict:
        return {"id": self.contact_id, "level": self.level, "score": round(self.score, 3), "reasons": self.reasons}


def _has_name(f: Features) -> bool:
    return len(f.last) >= 2 and len(f.first) >= 2


def keys_of(f: Features) -> set[str]:
    """The keys a contact is filed under."""
    keys = set()
    if _has_name(f):
        keys.add(names.name_key(f.last, f.first))
        # A short form is also filed under its full form(s): "Саша Кузнецов" meets "Александр Кузнецов".
        keys.update(names.name_key(f.last, form) for form in f.first_forms if form != f.first)
        if f.city and f.phones:
            # Namesakes of one city with a phone: a one-digit typo in the number makes them likely.
            x, y = sorted((f.last, f.first))
            keys.add(f"t:{x}|{y}|{f.city}"[:64])
    if f.company:
        keys.update(f"c:{f.company}|{tok[0]}" for tok in (f.last, f.first) if tok)
    keys.update(f"e:{local}" for local in f.locals)
    keys.update(f"m:{box}"[:64] for box in f.mailboxes)
    return keys


def blocking_keys(probe: Probe) -> set[str]:
    """Keys under which a contact is filed; two contacts sharing one are compared."""
    return keys_of(probe.features())


def search_keys(f: Features) -> set[str]:
    """The keys a search reads: its own, plus every name key one typo away in either name."""
    keys = keys_of(f)
    if _has_name(f):
        keys.update(names.name_key(v, f.first) for v in names.typo_skeletons(f.raw_last) if len(v) >= 2)
        keys.update(names.name_key(f.last, v) for v in names.typo_skeletons(f.raw_first) if len(v) >= 2)
    return keys


def _similarity(a: str, b: str) -> float:
    return OSA.normalized_similarity(a, b)


# A first name and its short form ("Саша"/"Александр") count as this alike: a match, not an identity.
NICKNAME_SIM = 0.9


def _first_similarity(a: Features, b: Features) -> tuple[float, bool]:
    """(similarity of the first names, whether a short form made them agree)."""
    if a.first == b.first:
        return 1.0, False
    sim = _similarity(a.first, b.first)
    if sim < NICKNAME_SIM and a.first_forms & b.first_forms:
        return NICKNAME_SIM, True
    return sim, False


def names_agree(a: Features, b: Features) -> bool:
    """Do two cards name one person, for a landline they share?

    The first names must agree (the same, a typo apart, or a name and its short form), the last
    names too where both cards have one, and nothing may contradict: neither the gender (a
    husband and a wife on one home phone) nor the patronymic (a father and his son). A card
    without a first name (made from a call) names nobody, so it agrees with no one.
    """
    if len(a.first) < 2 or len(b.first) < 2:
        return False
    if a.gender and b.gender and a.gender != b.gender:
        return False
    if a.middle and b.middle and _similarity(a.middle, b.middle) < TOKEN_GATE:
        return False
    if _first_similarity(a, b)[0] >= TOKEN_GATE and (
            not (a.last and b.last) or _similarity(a.last, b.last) >= TOKEN_GATE):
        return True
    # first and last name swapped on one card
    return bool(a.last and b.last) and min(_similarity(a.first, b.last), _similarity(a.last, b.first)) >= TOKEN_GATE


@dataclass
class _NameEvidence:
    score: float
    similarity: float
    sentence: str
    contradiction: bool  # a different patronymic or gender
    same_city: bool
    same_company: bool


def _name_evidence(a: Features, b: Features) -> _NameEvidence | None:
    """What the names (and company, e-mail name, city) say of two named contacts, or None when the names differ."""
    if not (_has_name(a) and _has_name(b)):
        return None
    first_sim, nickname = _first_similarity(a, b)
    direct = (_similarity(a.last, b.last), first_sim)
    swapped = (_similarity(a.last, b.first), _similarity(a.first, b.last))
    is_swapped = sum(swapped) > sum(direct)
    sims = swapped if is_swapped else direct
    if min(sims) < TOKEN_GATE:
        return None
    name_sim = sum(sims) / 2
    parts = ["same name" if name_sim == 1 else f"name {int(name_sim * 100)}% similar"]
    if nickname and not is_swapped:
        parts.append("short form of the first name")
    if is_swapped:
        parts.append("first and last name swapped")
    if a.latin != b.latin:
        parts.append("written in Latin letters")
    score = 0.55 * name_sim
    contradiction = False
    if a.middle and b.middle:
        middle_sim = _similarity(a.middle, b.middle)
        if middle_sim >= 0.85:
            score += 0.1
            parts.append("same patronymic")
        elif middle_sim < TOKEN_GATE:
            score -= 0.25
            contradiction = True
            parts.append("different patronymic")
    if a.gender and b.gender and a.gender != b.gender:
        score -= 0.3
        contradiction = True
        parts.append("different gender")
    context = 0.0
    same_company = bool(a.company and a.company == b.company)
    if same_company:
        context += 0.3
        parts.append("same company")
    shared_local = sorted(a.locals & b.locals)
    if shared_local:
        context += 0.3
        parts.append(f"same e-mail name {shared_local[0]}")
    score += min(context, 0.35)
    same_city = False
    if a.city and b.city:
        if a.city == b.city:
            score += 0.05
            same_city = True
            parts.append("same city")
        else:
            score -= 0.05
            parts.append("different city")
    return _NameEvidence(max(0.0, min(score, 1.0)), name_sim, ", ".join(parts), contradiction, same_city,
                         same_company)


def _mailbox_reasons(a: Features, b: Features) -> list[str]:
    """"same mailbox x / y" for addresses that differ as typed but reach one Gmail or Yandex mailbox."""
    out = []
    for box in sorted(a.mailboxes & b.mailboxes):
        mine = sorted(e for e in a.emails if is_aliased(e) and mailbox_key(e) == box)
        theirs = sorted(e for e in b.emails if is_aliased(e) and mailbox_key(e) == box)
        if mine and theirs and not set(mine) & set(theirs):
            out.append(f"same mailbox {mine[0]} / {theirs[0]}")
    return out


def _phone_typo(a: Features, b: Features) -> tuple[str, str] | None:
    """A number of one card a digit (or two swapped neighbours) away from a number of the other."""
    for x in sorted({e164 for e164, _ in a.phones}):
        for y in sorted({e164 for e164, _ in b.phones}):
            if one_digit_apart(x, y):
                return x, y
    return None


def score_pair(a: Features, b: Features) -> tuple[str, float, list[str]] | None:
    """Level, score (0-1) and reasons a person understands; None when nothing links the two.

    "certain" needs proof of one person: a shared e-mail or mailbox, a shared personal phone (a
    mobile, or the same extension), or a shared landline on two cards whose names agree. A
    landline shared by cards whose names do not agree (colleagues on an office's main number, a
    family's home phone) is at most "possible", with the reason "shared phone".
    """
    proofs, shared = [], []
    landlines = []
    for e164, ext in sorted(a.phones & b.phones):
        if is_personal(e164, ext):
            proofs.append(f"same phone {format_phone(e164, ext)}")
        else:
            landlines.append((e164, ext))
    if landlines:
        agree = names_agree(a, b)
        for e164, ext in landlines:
            (proofs if agree else shared).append(f"{'same' if agree else 'shared'} phone {format_phone(e164, ext)}")
    proofs += [f"same e-mail {email}" for email in sorted(a.emails & b.emails)]
    if a.mailboxes and b.mailboxes:
        proofs += _mailbox_reasons(a, b)
    name = _name_evidence(a, b)
    if proofs:
        reasons = proofs + shared
        if name:
            reasons.append(name.sentence)
        return "certain", 0.9 + 0.1 * (name.similarity if name else 0.0), reasons
    if shared:
        # Not proof of one person: say so, whatever the names add.
        score = min(max(name.score if name else 0.0, POSSIBLE + 0.05), LIKELY - 0.05)
        return "possible", score, shared + ([name.sentence] if name else [])
    if name is None or name.score < POSSIBLE:
        return None
    score, reasons = name.score, [name.sentence]
    typo = _phone_typo(a, b) if a.phones and b.phones else None
    if typo:
        reasons.append(f"phone one digit apart {format_phone(typo[0])} / {format_phone(typo[1])}")
        score = min(score + 0.1, 1.0)
        if name.similarity == 1 and not name.contradiction and (name.same_city or name.same_company):
            # The same full name in one city or company and the number mistyped by a digit.
            score = max(score, LIKELY + 0.05)
    return ("likely" if score >= LIKELY else "possible"), score, reasons


def load_features(ids, *, base: QuerySet | None = None) -> dict[int, Features]:
    """Features of the given contacts found in `base` (all contacts by default), by id."""
    base = base if base is not None else Contact.objects.all()
    rows: dict[int, tuple] = {}
    phones: dict[int, list] = defaultdict(list)
    emails: dict[int, list] = defaultdict(list)
    for chunk in chunks(sorted(set(ids)), _CHUNK):
        for row in base.filter(pk__in=chunk).values_list(
                "pk", "first_name", "last_name", "middle_name", "company__name", "city"):
            rows[row[0]] = row
        found = [pk for pk in chunk if pk in rows]
        for cid, e164, ext in ContactPhone.objects.filter(contact_id__in=found).values_list(
                "contact_id", "e164", "extension"):
            phones[cid].append((e164, ext))
        for cid, email in ContactEmail.objects.filter(contact_id__in=found).values_list("contact_id", "email"):
            emails[cid].append(email)
    return {
        pk: features_of(first=first, last=last, middle=middle, company=company or "", city=city,
                        phones=phones[pk], emails=emails[pk], contact_id=pk)
        for pk, first, last, middle, company, city in rows.values()
    }


def linked_ids(feats: list[Features], *, keys_by_probe: list[set[str]], hub_limit: int | None = None,
               key_rows_limit: int | None = None) -> list[set[int]]:
    """For each probe, the ids that share a phone, an e-mail or one of its keys.

    A phone, e-mail or key held by more than `hub_limit` contacts (a reception number, a
    placeholder address) links nobody: it says nothing about who is who.
    """
    phones = sorted({p for f in feats for p in f.phones})
    emails = sorted({e for f in feats for e in f.emails})
    keys = sorted(set().union(*keys_by_probe)) if keys_by_probe else []
    by_phone: dict[tuple[str, str], set[int]] = defaultdict(set)
    by_email: dict[str, set[int]] = defaultdict(set)
    by_key: dict[str, set[int]] = defaultdict(set)
    for chunk in chunks(sorted({e164 for e164, _ in phones}), _CHUNK):
        rows = ContactPhone.objects.filter(e164__in=chunk).values_list("contact_id", "e164", "extension")
        for cid, e164, ext in rows:
            by_phone[(e164, ext)].add(cid)
    for chunk in chunks(emails, _CHUNK):
        for cid, email in ContactEmail.objects.filter(email__in=chunk).values_list("contact_id", "email"):
            by_email[email].add(cid)
    read = 0
    for chunk in chunks(keys, _CHUNK):
        qs = ContactMatchKey.objects.filter(key__in=chunk).values_list("key", "contact_id")
        if key_rows_limit is not None:
            qs = qs[: key_rows_limit - read]
        for key, cid in qs:
            by_key[key].add(cid)
            read += 1
        if key_rows_limit is not None and read >= key_rows_limit:
            break
    out = []
    for f, probe_keys in zip(feats, keys_by_probe, strict=True):
        groups = [by_phone.get(p, ()) for p in f.phones] + [by_email.get(e, ()) for e in f.emails]
        groups += [by_key.get(k, ()) for k in probe_keys]
        ids: set[int] = set()
        for group in groups:
            if hub_limit is None or len(group) <= hub_limit:
                ids.update(group)
        ids.discard(f.contact_id)
        out.append(ids)
    return out


def find_candidates_many(probes: list[Probe], *, within: QuerySet | None = None,
                         exclude_ids: set[int] | frozenset[int] = frozenset()) -> list[list[Candidate]]:
    """`find_candidates` for many probes at once (imports): one round of queries for the lot."""
    feats = [p.features() for p in probes]
    linked = linked_ids(feats, keys_by_probe=[search_keys(f) for f in feats],
                        key_rows_limit=MAX_KEY_ROWS * max(1, len(probes)))
    base = (within if within is not None else Contact.objects.all()).filter(status=Contact.Status.ACTIVE)
    others = load_features(set().union(*linked) - set(exclude_ids), base=base)
    results = []
    for f, ids in zip(feats, linked, strict=True):
        found = []
        for cid in ids:
            other = others.get(cid)
            scored = score_pair(f, other) if other else None
            if scored:
                found.append(Candidate(cid, scored[0], scored[1], scored[2]))
        found.sort(key=lambda c: (-c.score, c.contact_id))
        results.append(found[:MAX_CANDIDATES])
    return results


def find_candidates(probe: Probe, *, exclude_ids: set[int] | frozenset[int] = frozenset(),
                    within: QuerySet | None = None) -> list[Candidate]:
    """Existing active contacts that may be the same customer, best first."""
    return find_candidates_many([probe], within=within, exclude_ids=exclude_ids)[0]


def index_contact(contact: Contact) -> None:
    """Re-files the contact under its current blocking keys."""
    keys = blocking_keys(Probe.of(contact))
    stored = set(ContactMatchKey.objects.filter(contact=contact).values_list("key", flat=True))
    if stored == keys:
        return
    ContactMatchKey.objects.filter(contact=contact, key__in=stored - keys).delete()
    ContactMatchKey.objects.bulk_create([ContactMatchKey(contact=contact, key=k) for k in sorted(keys - stored)])
