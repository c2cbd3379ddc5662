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
