"""Folding of names for search and matching."""

import re

_SPACES = re.compile(r"\s+")


def fold(text: str) -> str:
    """Lower-case, ё→е, collapsed spaces: the form every name comparison starts from."""
    return _SPACES.sub(" ", (text or "").lower().replace("ё", "е")).strip()
