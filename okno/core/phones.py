"""Phone numbers: whatever format they arrive in, one E.164 form to store and match on."""

from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
from django.conf import settings


class InvalidPhone(ValueError):
    """The text is not a phone number we can dial; the message says why, for the user."""


@dataclass(frozen=True)
class Phone:
    e164: str
    extension: str = ""

    @property
    def display(self) -> str:
        return format_phone(self.e164, self.extension)


def normalize_phone(raw: str, *, region: str | None = None) -> Phone:
    """Parse "8 (916) 123-45-67", "+7 916 1234567", "9161234567 доб. 12" and the like.

    Numbers without a country code are read in the default region (RU unless
    OKNO_DEFAULT_REGION says otherwise); extensions ("доб.", "ext.") are kept apart
    because two employees of one company share the main number.
    """
    text = (raw or "").strip()
    if not text:
        raise InvalidPhone("empty phone number")
    try:
        parsed = phonenumbers.parse(text, region or settings.OKNO_DEFAULT_REGION)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone(f"'{text}' is not a phone number ({exc._msg})") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidPhone(f"'{text}' is not a valid phone number")
    return Phone(
        e164=phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164),
        extension=parsed.extension or "",
    )


def try_normalize_phone(raw: str) -> Phone | None:
    """For search boxes: a normalised phone if the text is one, else None."""
    try:
        return normalize_phone(raw)
    except InvalidPhone:
        return None


def format_phone(e164: str, extension: str = "") -> str:
    """+79161234567 -> "+7 916 123-45-67" (the international form people read)."""
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    text = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return f"{text} доб. {extension}" if extension else text


# Numbers that belong to one person: a mobile phone (and the rare personal numbers and pagers).
# phonenumbers tells mobiles from landlines for Russia and its neighbours (+7 9xx is mobile in
# Russia, +7 70x/747/75x/77x in Kazakhstan, +375 25/29/33/44 in Belarus, ...). Where a country's
# plan does not tell them apart (FIXED_LINE_OR_MOBILE: the US, China), or the number is a
# hotline (8-800), a shared one, VoIP or unknown, the number is not taken as personal.
_PERSONAL_TYPES = frozenset({
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.PERSONAL_NUMBER,
    phonenumbers.PhoneNumberType.PAGER,
})


@lru_cache(maxsize=65536)
def is_personal(e164: str, extension: str = "") -> bool:
    """Is a number on two cards proof that they are one person?

    A mobile is; a landline (an office's main line, a family's home phone) is not. A number
    with an extension is a person's desk line: the same extension is personal too.
    """
    if extension:
        return True
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.number_type(parsed) in _PERSONAL_TYPES


def one_digit_apart(a: str, b: str) -> bool:
    """Two E.164 numbers of one length that differ in one digit, or in two neighbouring digits
    swapped ("+79161234567" / "+79161234576"): the commonest typos of a dictated number."""
    if len(a) != len(b) or a == b:
        return False
    diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    if len(diff) == 1:
        return True
    return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]
