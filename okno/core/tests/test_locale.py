"""The committed Russian catalogue: complete, and compiled (`make messages` does both)."""

import ast
import gettext
from pathlib import Path

from django.conf import settings

PO = Path(settings.LOCALE_PATHS[0]) / "ru" / "LC_MESSAGES" / "django.po"


def _entries(text: str) -> list[dict]:
    """A tiny .po reader: enough for the entries makemessages writes."""
    entries = []
    for block in text.split("\n\n"):
        entry, key = {"flags": ""}, None
        for line in block.splitlines():
            if line.startswith("#,"):
                entry["flags"] = line
            elif line.startswith("#"):
                continue
            elif line.startswith('"'):
                entry[key] += ast.literal_eval(line)
            else:
                key, _, value = line.partition(" ")
                entry[key] = ast.literal_eval(value)
        if "msgid" in entry and entry["msgid"]:
            entries.append(entry)
    return entries


def test_every_ui_string_has_a_russian_translation_and_none_is_fuzzy():
    entries = _entries(PO.read_text(encoding="utf-8"))
    assert len(entries) > 100
    untranslated = [e["msgid"] for e in entries if not all(v for k, v in e.items() if k.startswith("msgstr"))]
    fuzzy = [e["msgid"] for e in entries if "fuzzy" in e["flags"]]
    assert untranslated == [], "run `make messages` and translate these"
    assert fuzzy == [], "check these guesses of msgmerge"


def test_compiled_catalogue_matches_the_po_file():
    catalogue = gettext.GNUTranslations(open(PO.with_suffix(".mo"), "rb"))
    def compiled(e: dict) -> str:
        # An entry with a context ("deal stage": New, Won...) is looked up under it, as pgettext does.
        return catalogue.pgettext(e["msgctxt"], e["msgid"]) if "msgctxt" in e else catalogue.gettext(e["msgid"])

    stale = [e["msgid"] for e in _entries(PO.read_text(encoding="utf-8"))
             if "msgstr" in e and compiled(e) != e["msgstr"]]
    assert stale == [], "django.mo is older than django.po: run `make messages`"
