"""The contact list's search box: parts of phones and e-mails, words of names and companies, typos.

What a query finds (docs/contacts-search.md):
- a run of at least 4 digits of a phone, however typed: "880-67-28", "8806728"; a leading 8 or 7
  is also read as the country's prefix, so "8 (993) 880" finds "+79938806728";
- a part of an e-mail of at least 3 characters ("maksimova"), a whole address in any case;
- every word of the query inside "last first middle company" (Contact.search_text);
- a name with one typo ("Максимва"): a word of 5 letters or more one edit away from a word of
  the card (one letter wrong, missing, extra or two swapped).
Rows come ranked: exact matches (the phone, the address, the name as typed from its start) first,
then the parts, then the typo matches.

Substrings are served by trigram indexes (migration 0006): on PostgreSQL pg_trgm GIN indexes on
the search text, the phones and the e-mails, which serve LIKE '%…%'; on SQLite FTS5 trigram tables
kept by triggers (`ensure_sqlite_index`). Everything a query finds comes as one `IN (… UNION …)`
subquery, so that the planner makes it a semi-join rather than a test per visible card.
"""

import re
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Case, IntegerField, Q, Value, When
from django.db.models.expressions import RawSQL
from rapidfuzz.distance import OSA

from okno.contacts.models import ContactEmail, ContactPhone
from okno.core.phones import try_normalize_phone
from okno.core.text import fold

MIN_DIGITS = 4
MIN_EMAIL_PART = 3
MIN_TYPO_WORD = 5
# Trigram indexes serve substrings of 3 characters or more; shorter words are read by a scan.
MIN_INDEXED = 3
# A typo search reads at most this many candidate cards (those holding half of the typed word),
# and finds at most this many cards; past them it finds fewer (docs/contacts-search.md).
TYPO_CANDIDATES = 5000
TYPO_FOUND = 1000

EXACT, PART, TYPO = 0, 1, 2

_PHONE_LIKE = re.compile(r"^[\d\s()+\-.]+$")
_LIKE_SPECIAL = re.compile(r"([\\%_])")

# SQLite: external-content FTS5 tables over the columns searched, kept by triggers.
_FTS = {
    # fts table: (content table, column)
    "contacts_contact_fts": ("contacts_contact", "search_text"),
    "contacts_contactphone_fts": ("contacts_contactphone", "e164"),
    "contacts_contactemail_fts": ("contacts_contactemail", "email"),
}
# PostgreSQL: pg_trgm GIN indexes, name: (table, column).
PG_INDEXES = {
    "contacts_contact_search_trgm": ("contacts_contact", "search_text"),
    "contacts_contactphone_e164_trgm": ("contacts_contactphone", "e164"),
    "contacts_contactemail_email_trgm": ("contacts_contactemail", "email"),
}


def pg_create_sql() -> list[str]:
    return ["CREATE EXTENSION IF NOT EXISTS pg_trgm"] + [
        f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin ({column} gin_trgm_ops)"
        for name, (table, column) in PG_INDEXES.items()
    ]


def ensure_sqlite_index(conn=None) -> None:
    """Creates the FTS5 trigram tables and their triggers where missing (SQLite only).

    Run by migration 0006 and after every `migrate`: SQLite's way of altering a table (copy it
    under a new name, drop the old one) drops its triggers, so they are put back, and a table
    that lost its triggers is rebuilt from its content."""
    conn = conn or connection
    if conn.vendor != "sqlite":
        return
    with conn.cursor() as cur:
        for fts, (table, column) in _FTS.items():
            cur.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name = %s", [table])
            if not cur.fetchone():
                continue
            cur.execute("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE %s",
                        [f"{fts}_a_"])
            if cur.fetchone()[0] == 3:
                continue
            cur.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS {fts} USING fts5("
                        f"{column}, content='{table}', content_rowid='id', tokenize='trigram')")
            old = f"INSERT INTO {fts}({fts}, rowid, {column}) VALUES ('delete', old.id, old.{column});"
            new = f"INSERT INTO {fts}(rowid, {column}) VALUES (new.id, new.{column});"
            cur.execute(f"CREATE TRIGGER IF NOT EXISTS {fts}_ai AFTER INSERT ON {table} BEGIN {new} END")
            cur.execute(f"CREATE TRIGGER IF NOT EXISTS {fts}_ad AFTER DELETE ON {table} BEGIN {old} END")
            cur.execute(f"CREATE TRIGGER IF NOT EXISTS {fts}_au AFTER UPDATE OF {column} ON {table} "
                        f"BEGIN {old} {new} END")
            cur.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")


def _like(text: str) -> str:
    return "%" + _LIKE_SPECIAL.sub(r"\\\1", text) + "%"


def _phrase(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _substring_sql(fts: str, select: str, column: str, parts: list[str]) -> tuple[str, list]:
    """`select` (a column of the content table) of its rows whose `column` holds every one of `parts`."""
    table = _FTS[fts][0]
    if connection.vendor == "sqlite":
        indexed = [p for p in parts if len(p) >= MIN_INDEXED]
        short = [p for p in parts if len(p) < MIN_INDEXED]
        where, params = [], []
        if indexed:
            where.append(f"id IN (SELECT rowid FROM {fts} WHERE {fts} MATCH %s)")
            params.append(" AND ".join(_phrase(p) for p in indexed))
        for p in short:
            where.append(f"{column} LIKE %s ESCAPE '\\'")
            params.append(_like(p))
        return f"SELECT {select} FROM {table} WHERE {' AND '.join(where)}", params
    where = " AND ".join(f"{column} LIKE %s" for _ in parts)
    return f"SELECT {select} FROM {table} WHERE {where}", [_like(p) for p in parts]


def phone_digits(text: str) -> tuple[list[str], list[str]]:
    """(digit runs a phone must contain, prefixes its e164 may start with) of a phone-like query."""
    if not _PHONE_LIKE.match(text):
        return [], []
    digits = "".join(ch for ch in text if ch.isdigit())
    if len(digits) < MIN_DIGITS:
        return [], []
    prefixes = []
    # "8 (993) 880", "+7 993 880", "7993880": the country's prefix typed, the rest from its start.
    if digits[0] in "78" and len(digits) > MIN_DIGITS:
        prefixes.append("+7" + digits[1:])
    return [digits], prefixes


@dataclass
class Found:
    """A query's conditions: `ids` is what it finds; `exact` and `typo_only` rank it."""

    ids: RawSQL | None
    exact: Q = field(default_factory=Q)
    typo_only: list[int] = field(default_factory=list)

    def rank(self) -> Case:
        whens = []
        if self.exact:
            whens.append(When(self.exact, then=Value(EXACT)))
        if self.typo_only:
            whens.append(When(pk__in=self.typo_only, then=Value(TYPO)))
        if not whens:
            return Value(PART, output_field=IntegerField())
        return Case(*whens, default=Value(PART), output_field=IntegerField())


def search(q: str) -> Found:
    """What the search box finds for `q`, whichever it looks like: a phone, an e-mail, a name."""
    text = q.strip()
    folded = fold(text)
    parts: list[tuple[str, list]] = []
    exact = Q()

    runs, prefixes = phone_digits(text)
    if runs:
        digits = runs[0]
        if len(digits) >= 7 and (parsed := try_normalize_phone(text)):
            parts.append(("SELECT contact_id FROM contacts_contactphone WHERE e164 = %s", [parsed.e164]))
            exact |= Q(pk__in=ContactPhone.objects.filter(e164=parsed.e164).values("contact_id"))
        parts.append(_substring_sql("contacts_contactphone_fts", "contact_id", "e164", runs))
        for prefix in prefixes:
            sql, params = _substring_sql("contacts_contactphone_fts", "contact_id", "e164", [prefix[2:]])
            parts.append((sql + " AND e164 LIKE %s", [*params, prefix + "%"]))
        return Found(ids=_union(parts), exact=exact)

    if "@" in text or (" " not in folded and len(folded) >= MIN_EMAIL_PART):
        address = text.lower()
        if "@" in address:
            parts.append(("SELECT contact_id FROM contacts_contactemail WHERE email = %s", [address]))
            exact |= Q(pk__in=ContactEmail.objects.filter(email=address).values("contact_id"))
        parts.append(_substring_sql("contacts_contactemail_fts", "contact_id", "email", [address]))

    words = folded.split()
    typo_only: list[int] = []
    if words and "@" not in text:
        parts.append(_substring_sql("contacts_contact_fts", "id", "search_text", words))
        exact |= Q(search_text__startswith=folded)
        typo_only = _typo_ids(words)
        if typo_only:
            marks = ", ".join(["%s"] * len(typo_only))
            parts.append((f"SELECT id FROM contacts_contact WHERE id IN ({marks})", typo_only))
    if not parts:
        return Found(ids=None)
    return Found(ids=_union(parts), exact=exact, typo_only=typo_only)


def _union(parts: list[tuple[str, list]]) -> RawSQL:
    sql = " UNION ".join(p[0] for p in parts)
    params = [v for p in parts for v in p[1]]
    return RawSQL(sql, params)


def one_typo_away(word: str, tokens: list[str]) -> bool:
    return any(OSA.distance(word, tok, score_cutoff=1) <= 1 for tok in tokens)


def _typo_ids(words: list[str]) -> list[int]:
    """Cards where one word of the query is one typo away from a word of the card and the other
    words are there as typed, but not found by the words as typed: these come after the others.

    One edit leaves one half of a word intact, so for each word that may hold the typo the
    candidates are the cards holding either half and every other word (read through the trigram
    index, each half on its own, so that a common half such as "ова" cannot crowd out a rare
    one), and each is then compared word by word (optimal string alignment distance 1: a letter
    wrong, missing or extra, or two neighbours swapped)."""
    if not all(w.replace("-", "").isalpha() for w in words):
        return []
    found: set[int] = set()
    with connection.cursor() as cur:
        for word in {w for w in words if len(w) >= MIN_TYPO_WORD}:
            others = [w for w in words if w != word]
            for half in _halves(word):
                cur.execute(*_candidates_sql([half, *others]))
                for pk, search_text in cur.fetchall():
                    if word in search_text or pk in found:
                        continue  # found by the words as typed
                    if one_typo_away(word, search_text.split()):
                        found.add(pk)
                if len(found) >= TYPO_FOUND:
                    return sorted(found)[:TYPO_FOUND]
    return sorted(found)


def _halves(word: str) -> list[str]:
    # The halves leave out the middle letter: a swap of two letters across the cut (which both
    # halves would hold one of) then still leaves one half intact. Below 7 letters a half would be
    # shorter than the index serves, so they meet, and the word with the two letters at the cut
    # swapped back is a third candidate.
    n, k = len(word), len(word) // 2
    halves = [word[: max(MIN_INDEXED, k)], word[min(n - MIN_INDEXED, k + 1):]]
    if n < 2 * MIN_INDEXED + 1:
        halves.append(word[: k - 1] + word[k] + word[k - 1] + word[k + 1:])
    return halves


def _candidates_sql(parts: list[str]) -> tuple[str, list]:
    """(id, search_text) of active cards whose search text holds every one of `parts`."""
    sql, params = _substring_sql("contacts_contact_fts", "id, search_text", "search_text", parts)
    return sql + " AND status = 'active' LIMIT %s", [*params, TYPO_CANDIDATES]


def ensure_sqlite_index_after_migrate(sender, using="default", **kwargs) -> None:
    from django.db import connections

    ensure_sqlite_index(connections[using])
