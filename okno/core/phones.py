"""Phone numbers: whatever format they arrive in, one E.164 form to store and match on."""

from dataclasses import dataclass

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
