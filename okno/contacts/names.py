"""Names as duplicate search sees them: one Latin "skeleton" per name, whatever the script.

Cyrillic is transliterated and Latin spellings are rewritten into one canonical form, so that
"Юлия", "Yulia", "Julia" and "Iuliia" all read "iulia", and "Фёдор", "Федор", "Fyodor" read
"fedor". A ready-made transliterator (unidecode and the like) only goes one way, Cyrillic to
one Latin spelling; people write their names in BGN, passport (ICAO) or improvised spellings,
so both sides are folded into one form with the small tables below instead.
"""

import hashlib
import re
import unicodedata
from functools import lru_cache

from okno.contacts import nicknames
from okno.core.text import fold

_CYRILLIC = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z", "и": "i",
    "й": "i", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t",
    "у": "u", "ф": "f", "х": "h", "ц": "c", "ч": "ch", "ш": "sh", "щ": "sh", "ъ": "", "ы": "i", "ь": "",
    "э": "e", "ю": "iu", "я": "ia", "і": "i", "ї": "i", "є": "e", "ґ": "g", "ў": "u",
}
_CYRILLIC_TABLE = str.maketrans(_CYRILLIC)
# Applied in order to Latin text: the longer spellings first ("shch" before "sh", "kh" before "h").
_LATIN_RULES = [
    ("shch", "sh"), ("sch", "sh"), ("tch", "ch"), ("kh", "h"), ("tz", "c"), ("ts", "c"),
    ("yo", "e"), ("jo", "e"), ("ye", "e"), ("je", "e"), ("yu", "iu"), ("ju", "iu"), ("ya", "ia"), ("ja", "ia"),
    ("x", "ks"), ("w", "v"), ("q", "k"), ("y", "i"), ("j", "i"), ("'", ""),
]
# The letters a skeleton can hold: typo variants are built over this alphabet.
ALPHABET = "abcdefghiklmnoprstuvz"
_NOT_LETTER = re.compile(r"[^a-z]")
_DOUBLES = re.compile(r"(.)\1+")
_CYRILLIC_CHAR = re.compile(r"[а-яёіїєґў]")
_LEGAL_FORMS = re.compile(
    r"\b(ооо|оао|зао|пао|нао|ао|ип|чп|нко|ано|гуп|муп|фгуп|ооо\s*тд|тд|гк|llc|ltd|inc|gmbh|co|corp)\b"
)
_PUNCT = re.compile(r"[\"'«»“”„.,()\-–—&]+")


def skeleton(text: str) -> str:
    """The canonical Latin form of one name: "Пётр" -> "petr", "Pyotr" -> "petr", "Дмитрий" -> "dmitri".

    Doubled letters collapse ("Dmitriy" and "Dmitry" both end in "i"), everything but letters goes.
    """
    low = fold(text).translate(_CYRILLIC_TABLE)
    if not low.isascii():
        low = "".join(ch for ch in unicodedata.normalize("NFKD", low) if not unicodedata.combining(ch))
    low = _NOT_LETTER.sub("", low)
    # Until nothing changes, so that a skeleton is its own skeleton ("qh" -> "kh" -> "h").
    for _ in range(5):
        before = low
        for old, new in _LATIN_RULES:
            if old in low:
                low = low.replace(old, new)
        low = _DOUBLES.sub(r"\1", low)
        if low == before:
            break
    return low


def is_latin(text: str) -> bool:
    return bool(text) and not _CYRILLIC_CHAR.search(fold(text)) and any(ch.isalpha() for ch in text)


def split_name(first: str, last: str, middle: str) -> tuple[str, str, str]:
    """Folded (last, first, middle). A whole name typed into one field is split.

    Imports and forms carry "Кузнецов Александр Петрович" in the first name, "Александр
    Кузнецов" in the last name, "Александр Петрович" in the first name with the last name apart.
    The words are told apart by what they are: a patronymic by its ending (-ович, -евич, -ич,
    -овна, -евна, -ична), a first name by the table of first names and their short forms
    (nicknames.py), a last name by its ending (-ов, -ев, -ин, -ский...). What none of these
    decides falls back on the usual order: "Имя Фамилия" in the first-name field, "Фамилия Имя
    Отчество" otherwise.
    """
    first, last, middle = (first or "").strip(), (last or "").strip(), (middle or "").strip()
    if not first and len(last.split()) >= 2:
        last, first, more = _split_words(last.split(), first_field=False)
        middle = middle or more
    elif not last and len(first.split()) >= 2:
        last, first, more = _split_words(first.split(), first_field=True)
        middle = middle or more
    elif not middle and len(first.split()) == 2 and is_patronymic(first.split()[1]):
        # "Александр Петрович" in the first name, the last name in its own field
        first, middle = first.split()
    return fold(last), fold(first), fold(middle)


def _split_words(words: list[str], *, first_field: bool) -> tuple[str, str, str]:
    """(last, first, middle) of the words of a whole name written in one field."""
    if len(words) > 3:
        words = [*words[:2], " ".join(words[2:])]
    if len(words) == 3:
        a, b, c = words
        if is_patronymic(b) and not is_patronymic(c):
            return c, a, b  # Имя Отчество Фамилия
        if _first_name_rank(a) > _first_name_rank(b):
            return b, a, c  # Имя Фамилия Отчество
        return a, b, c  # Фамилия Имя Отчество, the formal order
    a, b = words
    if is_patronymic(b) and not is_patronymic(a):
        return "", a, b  # Имя Отчество
    rank_a, rank_b = _first_name_rank(a), _first_name_rank(b)
    if rank_a != rank_b:
        return (b, a, "") if rank_a > rank_b else (a, b, "")
    return (b, a, "") if first_field else (a, b, "")


_PATRONYMIC_ENDINGS = ("ovich", "evich", "ovna", "evna", "ichna")
# Patronymics in -ич/-ична without -ов-/-ев-: Ильич, Кузьмич, Лукич, Фомич, Никитич, Саввич.
_SHORT_PATRONYMICS = {"ilich", "kuzmich", "lukich", "fomich", "nikitich", "savich", "ilinichna"}
_SURNAME_ENDINGS = ("ov", "ev", "in", "ova", "eva", "ina", "ski", "skii", "skaia", "cki", "ckii", "ckaia", "enko",
                    "iuk", "uk", "ih", "ikh", "ovich", "evich")


def is_patronymic(word: str) -> bool:
    sk = skeleton(word)
    return len(sk) > 5 and (sk.endswith(_PATRONYMIC_ENDINGS) or sk in _SHORT_PATRONYMICS)


def _first_name_rank(word: str) -> int:
    """2 for a known first name or short form, 0 for a word that looks like a last name, 1 otherwise."""
    sk = skeleton(word)
    if sk in _name_tables()[0]:
        return 2
    return 0 if sk.endswith(_SURNAME_ENDINGS) else 1


@lru_cache(maxsize=1)
def _name_tables() -> tuple[dict[str, frozenset[str]], dict[str, str]]:
    """(skeleton of a first name or short form -> skeletons of its full forms, full form -> gender)."""
    forms: dict[str, set[str]] = {}
    genders: dict[str, str] = {}
    for full, sex in nicknames.FULL_NAMES.items():
        sk = skeleton(full)
        forms.setdefault(sk, set()).add(sk)
        genders[sk] = sex if genders.get(sk, sex) == sex else ""
    for short, fulls in nicknames.NICKNAMES.items():
        forms.setdefault(skeleton(short), set()).update(skeleton(f) for f in fulls)
    return {k: frozenset(v) for k, v in forms.items()}, genders


def full_forms(first: str) -> frozenset[str]:
    """Skeletons of the full first names a first-name skeleton stands for: "sasha" -> {"aleksandr",
    "aleksandra"}; a full or unknown name stands for itself."""
    return _name_tables()[0].get(first) or frozenset((first,))


@lru_cache(maxsize=4096)
def first_name_gender(first: str) -> str:
    """"m", "f" or "" (unknown, or a short form of both a man's and a woman's name) of a first-name skeleton."""
    genders = _name_tables()[1]
    found = {genders.get(f, "") for f in full_forms(first)}
    return found.pop() if len(found) == 1 else ""


def gender(last: str, middle: str) -> str:
    """"m", "f" or "" from the skeletons of a Russian last name and patronymic."""
    if middle.endswith(("vich", "ich", "ogli", "ugli")):
        return "m"
    if middle.endswith(("vna", "chna", "kizi")):
        return "f"
    if last.endswith(("ova", "eva", "ina", "ska", "skaia", "caia", "aia")):
        return "f"
    if last.endswith(("ov", "ev", "in", "ki", "oi")):
        return "m"
    return ""


def company_key(name: str) -> str:
    """A company's name without its legal form and quotes: «ООО "Ромашка"» and "Ромашка ООО" agree."""
    text = _PUNCT.sub(" ", fold(name))
    text = " ".join(_LEGAL_FORMS.sub(" ", text).split())
    if len(text) > 40:
        # Keys are at most 64 characters; long names are filed under a digest.
        text = hashlib.blake2b(text.encode(), digest_size=8).hexdigest()
    return text


_GENERIC_LOCALS = {"info", "mail", "office", "sales", "admin", "support", "hello", "contact", "contacts", "post",
                   "zakaz", "order", "orders", "buh", "secretary", "reception", "manager", "director", "noreply"}


def email_local(email: str) -> str:
    """The part of an address before "@" when it names a person, else "" (info@, sales@ name nobody)."""
    local = (email or "").split("@", 1)[0].lower()
    local = local.split("+", 1)[0]
    if len(local) < 5 or local in _GENERIC_LOCALS or local.isdigit():
        return ""
    return local[:60]


def name_key(a: str, b: str) -> str:
    """The name block: both skeletons in sorted order, so a swapped first/last name files alike."""
    x, y = sorted((a, b))
    return f"n:{x}|{y}"[:64]


_CYRILLIC_ALPHABET = "абвгдежзийклмнопрстуфхцчшщыьэюя"
_MULTI = "жчшщюяьъ"  # written with two Latin letters, or none


def edit_variants(token: str, alphabet: str = ALPHABET) -> set[str]:
    """Every string one edit away (delete, transpose, replace, insert), the token itself included."""
    out = {token}
    n = len(token)
    for i in range(n):
        out.add(token[:i] + token[i + 1:])
        if i + 1 < n:
            out.add(token[:i] + token[i + 1] + token[i] + token[i + 2:])
        for ch in alphabet:
            out.add(token[:i] + ch + token[i + 1:])
    for i in range(n + 1):
        for ch in alphabet:
            out.add(token[:i] + ch + token[i:])
    out.discard("")
    return out


@lru_cache(maxsize=4096)
def _fuses(a: str, b: str) -> bool:
    """True when two adjacent letters fold into fewer Latin letters than they have apart: "тз" and
    "тс" read "c", "кх" reads "h", "сч" reads "sh" (the Latin rules above), so one Cyrillic edit that
    makes or breaks such a pair ("Кузнецов"/"Ктзнецов": "kuznecov"/"kcnecov") is two Latin edits."""
    return len(skeleton(a + b)) < len(skeleton(a)) + len(skeleton(b)) and skeleton(a) != skeleton(b)


def _fusing_letters(before: str, after: str) -> str:
    """The letters that, written between `before` and `after`, fuse with either of them."""
    return "".join(ch for ch in _CYRILLIC_ALPHABET if (before and _fuses(before, ch)) or (after and _fuses(ch, after)))


def _cyrillic_typos(word: str) -> set[str]:
    """The Cyrillic typos of `word` whose skeleton is more than one Latin edit away.

    Only edits that touch a letter written with two Latin letters (or none), or that make or
    break a pair of letters the Latin rules fuse, qualify: any other Cyrillic typo is a
    one-letter Latin typo, which `edit_variants` of the skeleton covers.
    """
    out = set()
    n = len(word)
    for i in range(n):
        out.add(word[:i] + word[i + 1:])
        if i + 1 < n:
            out.add(word[:i] + word[i + 1] + word[i] + word[i + 2:])
        before, after = word[i - 1] if i else "", word[i + 1] if i + 1 < n else ""
        in_pair = (before and _fuses(before, word[i])) or (after and _fuses(word[i], after))
        for ch in (_CYRILLIC_ALPHABET if word[i] in _MULTI or in_pair else _MULTI + _fusing_letters(before, after)):
            out.add(word[:i] + ch + word[i + 1:])
    for i in range(n + 1):
        for ch in _MULTI + _fusing_letters(word[i - 1] if i else "", word[i] if i < n else ""):
            out.add(word[:i] + ch + word[i:])
    return out


def typo_skeletons(name: str) -> set[str]:
    """Skeletons of every spelling one typo away from `name`.

    A Cyrillic typo can be two Latin edits ("Иван"/"Жван" is "ivan"/"zhvan"), so such typos are
    made in Cyrillic first; the Latin variants of the skeleton cover all the others.
    """
    out = edit_variants(skeleton(name))
    folded = fold(name)
    if _CYRILLIC_CHAR.search(folded):
        out.update(skeleton(v) for v in _cyrillic_typos(folded))
    out.discard("")
    return out
