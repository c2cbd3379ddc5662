"""Which column of an import file goes to which field of the card, and one row as card input.

A mapping is `{"<column index>": "<target>"}`; targets are the card's fields as
`contact_data_clean` takes them, plus `full_name` (split into last/first/middle name),
`responsible` (a username or e-mail) and `custom.<key>`. Columns left out are ignored.
"""

import re

from django.utils.translation import gettext as _
from openpyxl.utils import get_column_letter

from okno.contacts.import_files import MAX_CELL_CHARS
from okno.contacts.models import CustomField
from okno.core.errors import FieldError
from okno.core.text import fold
from okno.people.models import User

TARGETS = {
    "last_name": "Last name",
    "first_name": "First name",
    "middle_name": "Middle name",
    "full_name": "Full name (last first middle)",
    "phones": "Phone",
    "emails": "E-mail",
    "company": "Company",
    "city": "City",
    "source": "Source",
    "tags": "Tags",
    "responsible": "Responsible (username or e-mail)",
}
# Several columns may feed these (two phone columns); the others take one column each.
MULTI_TARGETS = {"phones", "emails", "tags"}

# Header names seen in Russian and English exports (amoCRM, Bitrix24, Excel address books),
# folded (lower case, ё→е) and stripped of punctuation.
_SYNONYMS = {
    "last_name": ["фамилия", "last name", "lastname", "surname", "family name"],
    "first_name": ["имя", "first name", "firstname", "given name"],
    "middle_name": ["отчество", "middle name", "middlename", "patronymic"],
    "full_name": ["фио", "ф и о", "полное имя", "имя фамилия", "контакт", "контактное лицо", "клиент", "name",
                  "full name", "fullname", "contact", "contact name"],
    "phones": ["телефон", "телефоны", "мобильный", "мобильный телефон", "моб телефон", "моб", "сотовый",
               "рабочий телефон", "домашний телефон", "номер телефона", "номер", "тел", "phone", "phones", "mobile",
               "mobile phone", "cell", "telephone", "tel", "phone number", "work phone", "home phone"],
    "emails": ["e mail", "email", "emails", "эл почта", "электронная почта", "почта", "емейл", "имейл", "mail",
               "e mail address", "email address", "адрес электронной почты"],
    "company": ["компания", "организация", "фирма", "название компании", "company", "organization",
                "organisation", "company name"],
    "city": ["город", "населенный пункт", "city", "town"],
    "source": ["источник", "канал", "источник обращения", "source", "lead source", "channel"],
    "tags": ["теги", "тэги", "метки", "тег", "tags", "tag", "labels"],
    "responsible": ["ответственный", "менеджер", "ответственный менеджер", "responsible", "owner", "manager",
                    "responsible user"],
}
_LOOKUP = {syn: target for target, names in _SYNONYMS.items() for syn in names}
_PUNCT = re.compile(r"[^\w]+")
_SPLIT_MULTI = re.compile(r"[;,\n]+")
_SPLIT_EMAILS = re.compile(r"[;,\s]+")
_PATRONYMIC = re.compile(r"(вич|вна|ична|инична|оглы|кызы)$")


def _norm(text: str) -> str:
    return _PUNCT.sub(" ", fold(text).replace("*", "")).strip()


def custom_targets() -> dict[str, str]:
    return {f"custom.{f.key}": f.label for f in CustomField.objects.all()}


def all_targets() -> dict[str, str]:
    return {**TARGETS, **custom_targets()}


def target_for_header(text: str, custom: dict[str, str] | None = None) -> str | None:
    norm = _norm(text)
    if not norm:
        return None
    if norm in _LOOKUP:
        return _LOOKUP[norm]
    for target, label in (custom or {}).items():
        if norm in (_norm(label), _norm(target.removeprefix("custom."))):
            return target
    return None


def header_matcher():
    """For header detection: does a cell name a field we know?"""
    custom = custom_targets()
    return lambda text: target_for_header(text, custom) is not None


def suggest_mapping(header: list[str]) -> dict[str, str]:
    """A first guess from the header names; single-column targets go to their first column."""
    custom = custom_targets()
    mapping: dict[str, str] = {}
    for index, name in enumerate(header):
        target = target_for_header(name, custom)
        if target is None or (target not in MULTI_TARGETS and target in mapping.values()):
            continue
        mapping[str(index)] = target
    return mapping


def clean_mapping(mapping: dict, header: list[str]) -> dict[str, str]:
    """Accepts column indexes or header names as keys; refuses unknown columns and targets."""
    if not isinstance(mapping, dict):
        raise FieldError({"mapping": "must be an object {column: field}"})
    targets = all_targets()
    errors: dict[str, str] = {}
    cleaned: dict[str, str] = {}
    for column, target in mapping.items():
        if target in (None, ""):
            continue
        column = str(column)
        indexes = [column] if column.isdigit() and int(column) < len(header) else [
            str(i) for i, name in enumerate(header) if name and name.strip() == column.strip()]
        if not indexes:
            errors[f"mapping.{column}"] = "no such column in the file"
            continue
        if target not in targets:
            errors[f"mapping.{column}"] = f"unknown field '{target}'"
            continue
        for index in indexes:
            cleaned[index] = target
    singles = [t for t in cleaned.values() if t not in MULTI_TARGETS]
    for target in {t for t in singles if singles.count(t) > 1}:
        errors[f"mapping.{target}"] = "only one column can go to this field"
    if not errors and not cleaned:
        errors["mapping"] = "map at least one column to a field"
    if errors:
        raise FieldError(errors, detail="Invalid mapping")
    return dict(sorted(cleaned.items(), key=lambda kv: int(kv[0])))


def split_full_name(text: str) -> tuple[str, str, str]:
    """"Иванов Иван Иванович" → (last, first, middle); "Иван Иванович Иванов" is recognised too."""
    parts = text.split()
    if not parts:
        return "", "", ""
    if len(parts) == 1:
        return "", parts[0], ""
    if len(parts) == 2:
        return parts[0], parts[1], ""
    if _PATRONYMIC.search(parts[1].lower()) and not _PATRONYMIC.search(parts[2].lower()):
        return " ".join(parts[2:]), parts[0], parts[1]
    return parts[0], parts[1], " ".join(parts[2:])


class UserResolver:
    """Maps "responsible" cells (username or e-mail, any case) to user ids, cached per import."""

    def __init__(self):
        self._cache: dict[str, int | None] = {}

    def __call__(self, text: str) -> int | None:
        key = text.strip().lower()
        if key not in self._cache:
            user = (User.objects.filter(username__iexact=key).first()
                    or User.objects.filter(email__iexact=key).order_by("pk").first())
            self._cache[key] = user.pk if user else None
        return self._cache[key]


def row_to_raw(cells: list[str], mapping: dict[str, str], users: UserResolver) -> tuple[dict, list[dict]]:
    """One row as `contact_data_clean` input, plus problems found before cleaning."""
    raw: dict = {}
    problems: list[dict] = []
    full_name = ""
    for index, target in mapping.items():
        i = int(index)
        value = cells[i] if i < len(cells) else ""
        if not value:
            continue
        if len(value) > MAX_CELL_CHARS:
            # The reader cut the cell one character over the limit; the row is reported, not cut silently.
            problems.append({"field": target, "reason": _("the cell in column %(column)s holds more than %(limit)s "
                                                          "characters") % {"column": get_column_letter(i + 1),
                                                                           "limit": f"{MAX_CELL_CHARS:,}"}})
            continue
        if target == "phones":
            raw.setdefault("phones", []).extend(p.strip() for p in _SPLIT_MULTI.split(value) if p.strip())
        elif target == "emails":
            raw.setdefault("emails", []).extend(e for e in _SPLIT_EMAILS.split(value) if e)
        elif target == "tags":
            raw.setdefault("tags", []).extend(t.strip() for t in _SPLIT_MULTI.split(value) if t.strip())
        elif target == "full_name":
            full_name = value
        elif target == "responsible":
            user_id = users(value)
            if user_id is None:
                problems.append({"field": "responsible", "reason": f"no user '{value}'"})
            else:
                raw["responsible_id"] = user_id
        elif target.startswith("custom."):
            raw.setdefault("custom", {})[target.removeprefix("custom.")] = value
        else:
            raw[target] = value
    if full_name:
        # Separate name columns win over the ФИО column where both are filled.
        for name, part in zip(("last_name", "first_name", "middle_name"), split_full_name(full_name), strict=True):
            if part and not raw.get(name):
                raw[name] = part
    return raw, problems
