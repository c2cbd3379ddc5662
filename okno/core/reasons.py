"""A service's reason for refusing a value, in the user's language.

Services speak English to programs (`{"field": ..., "reason": ...}` in a 400); pages show the
same reason translated. Every domain's views use `reason_text`, so it lives below them all.
"""

import re

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

# Fixed reasons the services give; listed so that makemessages offers them for translation.
KNOWN_REASONS = [
    gettext_noop("a contact needs a name, a phone or an e-mail"),
    gettext_noop("must be a number"),
    gettext_noop("must be a date as YYYY-MM-DD"),
    gettext_noop("must be text"),
    gettext_noop("unknown custom field"),
    gettext_noop("no such user you may assign"),
    gettext_noop("empty phone number"),
    gettext_noop("a note cannot be empty"),
    gettext_noop("a department needs a name"),
    gettext_noop("no such department"),
    gettext_noop("this username is taken"),
    gettext_noop("required"),
    gettext_noop("a department cannot be its own parent"),
    gettext_noop("this key is taken"),
    gettext_noop("a choice field needs at least one choice"),
    gettext_noop("use lower-case letters, digits, - and _"),
    gettext_noop("you cannot take away your own administrator access"),
    gettext_noop("unknown language"),
    gettext_noop("must be 1 to 255 characters"),
]

# Reasons that quote the value: matched by shape, translated with the value put back.
PATTERNED_REASONS = [
    (re.compile(r"^'(?P<value>.*)' is not a valid phone number$"),
     gettext_noop("“%(value)s” is not a valid phone number")),
    (re.compile(r"^'(?P<value>.*)' is not a phone number \(.*\)$"), gettext_noop("“%(value)s” is not a phone number")),
    (re.compile(r"^'(?P<value>.*)' is not a valid e-mail address$"),
     gettext_noop("“%(value)s” is not a valid e-mail address")),
    (re.compile(r"^must be one of: (?P<value>.*)$"), gettext_noop("must be one of: %(value)s")),
]


def reason_text(reason: str) -> str:
    """A service's reason in the user's language when we have a translation for it."""
    for pattern, template in PATTERNED_REASONS:
        match = pattern.match(reason)
        if match:
            return _(template) % {"value": match.group("value")}
    return _(reason)
