"""E-mail addresses: validated, stored lower-cased so that lookups are exact."""

from django.core.exceptions import ValidationError
from django.core.validators import validate_email


class InvalidEmail(ValueError):
    pass


def normalize_email(raw: str) -> str:
    """Trimmed and lower-cased: mail systems treat the whole address case-insensitively in practice."""
    text = (raw or "").strip().lower()
    try:
        validate_email(text)
    except ValidationError as exc:
        raise InvalidEmail(f"'{raw}' is not a valid e-mail address") from exc
    return text


# Providers that deliver several spellings of an address to one mailbox.
# Gmail: dots in the login are ignored, "+tag" is a label, googlemail.com is gmail.com
# (Gmail Help, "Dots don't matter in Gmail addresses"). Yandex: one mailbox answers at ya.ru,
# yandex.ru, yandex.com, yandex.by, yandex.kz (and the older yandex.ua), "." and "-" in the login
# are the same character, "+tag" is a label (Yandex Mail Help, the mailbox's address aliases).
# Mail.ru's domains (mail.ru, bk.ru, inbox.ru, list.ru, internet.ru) are separate mailboxes:
# ivan@mail.ru and ivan@bk.ru are two people, so they are left as typed.
_GMAIL = frozenset({"gmail.com", "googlemail.com"})
_YANDEX = frozenset({"ya.ru", "yandex.ru", "yandex.com", "yandex.by", "yandex.kz", "yandex.ua"})
_ALIASED = _GMAIL | _YANDEX


def mailbox_key(email: str) -> str:
    """The mailbox an address delivers to: "Ivan.Petrov+shop@googlemail.com" -> "ivanpetrov@gmail.com",
    "ivan.petrov@ya.ru" -> "ivan-petrov@yandex.ru". Other providers: the address, lower-cased."""
    text = (email or "").strip().lower()
    local, at, domain = text.rpartition("@")
    if not at:
        return text
    if domain in _GMAIL:
        return local.split("+", 1)[0].replace(".", "") + "@gmail.com"
    if domain in _YANDEX:
        return local.split("+", 1)[0].replace(".", "-") + "@yandex.ru"
    return text


def is_aliased(email: str) -> bool:
    """Does the address's provider give one mailbox several spellings (Gmail, Yandex)?"""
    return (email or "").rpartition("@")[2].lower() in _ALIASED
