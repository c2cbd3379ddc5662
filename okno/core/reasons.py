"""A service's reason for refusing a value, in the user's language.

Services speak English to programs (`{"field": ..., "reason": ...}` in a 400); pages show the
same reason translated. Every domain's views use `reason_text`, so it lives below them all.

A reason is found in three ways, first hit wins:
1. the catalogue has the reason itself (KNOWN_REASONS below, and the lists other apps offer,
   e.g. okno.robots.rules.REASONS and okno.robots.selectors.KNOWN_RESULTS);
2. it has the shape of a PATTERNED_REASONS entry: the regex's named groups (usually one,
   `value`; a few reasons quote two things) are put back into the translated template;
3. neither: the English reason as it came.
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
    # people (okno/people/services.py), pipelines' calendars
    gettext_noop("no such calendar"),
    # deals: okno/deals/deal_services.py, api.py, api_deals.py, api_pipelines.py
    gettext_noop("must be an object"),
    gettext_noop("must be an id"),
    gettext_noop("must be a list of {name, sku, quantity, price}"),
    gettext_noop("must be an object with name, sku, quantity, price"),
    gettext_noop("must be a positive number with at most 3 decimals"),
    gettext_noop("must be an amount of money, at least 0, with at most 2 decimals"),
    gettext_noop("must be a three-letter currency code"),
    gettext_noop("no such contact"),
    gettext_noop("no such company"),
    gettext_noop("no such pipeline"),
    gettext_noop("no such stage"),
    gettext_noop("no such stage in this pipeline"),
    gettext_noop("no such reason"),
    gettext_noop("the amount of a deal with line items is their sum: leave it out"),
    gettext_noop("the amount of a deal with line items is their sum: change the lines"),
    gettext_noop("this pipeline has no open stage"),
    gettext_noop("this pipeline is archived"),
    gettext_noop("a deal with this external id is already in the pipeline"),
    gettext_noop("this stage belongs to another pipeline"),
    gettext_noop("only a lost stage takes a reason"),
    # deals: okno/deals/lead_services.py (leads and lost reasons)
    gettext_noop("this lead is closed already"),
    gettext_noop("this name is taken"),
    gettext_noop("must be true or false"),
    # deals: okno/deals/pipeline_services.py
    gettext_noop("must be a list of field keys"),
    gettext_noop("must be an object with name and kind"),
    gettext_noop("must be an object with key, label and type"),
    gettext_noop("a pipeline needs at least one stage"),
    gettext_noop("a pipeline needs at least one open stage"),
    gettext_noop("a stage holding deals keeps its kind"),
    gettext_noop("name every stage of the pipeline once"),
    gettext_noop("this stage holds deals: move them to another stage first"),
    gettext_noop("deals have passed through this stage: rename it instead"),
    # robots: okno/robots/api.py and rules.py (rules.REASONS offers a few more)
    gettext_noop("must be a JSON object"),
    gettext_noop("required (or for_leads=true)"),
    gettext_noop("an ISO 8601 date and time with an offset, e.g. 2026-12-04T17:50:00+03:00"),
    gettext_noop("must be an object with action"),
    gettext_noop("a lead cannot be moved to a stage"),
    gettext_noop("must be an object with field, op and value"),
    gettext_noop("must be an object with type"),
    gettext_noop("give url or endpoint_id"),
    gettext_noop("only an administrator may allow a private address"),
    gettext_noop("a lead robot runs on a new lead or after a delay"),
    # durations (okno/core/durations.py): robots give ValueError's text as the reason
    gettext_noop("must be an ISO 8601 duration such as PT30M or P1D"),
    gettext_noop("must be an ISO 8601 duration such as PT30M or P1D: months and years have no fixed length, "
                 "use days (P30D) or weeks (P4W)"),
    gettext_noop("a duration cannot be negative"),
    # webhook URLs (okno/outbox/webhooks.py UrlRefused): outbox and robots give its text as the reason
    gettext_noop("not a valid URL"),
    gettext_noop("must be an http:// or https:// URL"),
    gettext_noop("has no host"),
    gettext_noop("must not carry a user name or password"),
    gettext_noop("points at this server (localhost)"),
    # outbox: okno/outbox/services.py, templating.py, api_templates.py
    gettext_noop("not a valid e-mail address"),
    gettext_noop("an e-mail needs a subject"),
    gettext_noop("a phone number in international format, e.g. +79161234567"),
    gettext_noop("an SMS needs a text"),
    gettext_noop('a list of event names, e.g. ["deal.created"], or ["*"] for all'),
    gettext_noop("must not contain spaces"),
    gettext_noop("SMS.ru needs its api_id"),
    gettext_noop("SMSC.ru needs a login and password, or an API key"),
    gettext_noop("a template needs a name"),
    gettext_noop("email or sms"),
    gettext_noop("a template needs a text"),
    gettext_noop("an e-mail template needs a subject"),
    gettext_noop("previews with a deal are not available yet"),
    gettext_noop("no such deal"),
    # companies: okno/core/requisites.py (REASONS) and okno/contacts/companies.py
    gettext_noop("must be 10 digits (a company) or 12 digits (an individual entrepreneur)"),
    gettext_noop("wrong check digit: not a valid INN"),
    gettext_noop("must be 9 characters: 4 digits, 2 digits or capital Latin letters, 3 digits"),
    gettext_noop("an individual entrepreneur (12-digit INN) has no KPP"),
    gettext_noop("must be 13 digits (OGRN) or 15 digits (OGRNIP)"),
    gettext_noop("wrong check digit: not a valid OGRN"),
    gettext_noop("a 13-digit OGRN goes with a 10-digit INN, a 15-digit OGRNIP with a 12-digit INN"),
    gettext_noop("must be 9 digits"),
    gettext_noop("must be 20 digits"),
    gettext_noop("give the bank's BIK to check the account"),
    gettext_noop("does not match the BIK: wrong account or BIK"),
    gettext_noop("must be a list of phone numbers"),
    gettext_noop("must be a list of e-mail addresses"),
]

# Reasons that quote a value: matched by shape, translated with the value(s) put back. Each
# named group of the regex is a placeholder of the template (most have one, `value`).
# Duplicate evidence (okno/contacts/matching.py): a pair's reasons are phrases joined by ", ",
# each translated on its own by reason_text.
DUPLICATE_REASONS = [
    gettext_noop("same name"),
    gettext_noop("short form of the first name"),
    gettext_noop("first and last name swapped"),
    gettext_noop("written in Latin letters"),
    gettext_noop("same patronymic"),
    gettext_noop("different patronymic"),
    gettext_noop("different gender"),
    gettext_noop("same company"),
    gettext_noop("same city"),
    gettext_noop("different city"),
]

PATTERNED_REASONS = [
    (re.compile(r"^'(?P<value>.*)' is not a valid phone number$"),
     gettext_noop("“%(value)s” is not a valid phone number")),
    (re.compile(r"^'(?P<value>.*)' is not a phone number \(.*\)$"), gettext_noop("“%(value)s” is not a phone number")),
    (re.compile(r"^'(?P<value>.*)' is not a valid e-mail address$"),
     gettext_noop("“%(value)s” is not a valid e-mail address")),
    (re.compile(r"^must be one of: (?P<value>.*)$"), gettext_noop("must be one of: %(value)s")),
    # lengths (deals, pipelines, lost reasons, robots, outbox, calendars)
    (re.compile(r"^must be 1 to (?P<value>\d+) characters$"), gettext_noop("must be 1 to %(value)s characters")),
    (re.compile(r"^at most (?P<value>\d+) characters$"), gettext_noop("at most %(value)s characters")),
    (re.compile(r"^at most (?P<value>\d+) phone numbers$"), gettext_noop("at most %(value)s phone numbers")),
    (re.compile(r"^at most (?P<value>\d+) e-mail addresses$"), gettext_noop("at most %(value)s e-mail addresses")),
    # deals: the stage's required fields; pipelines' required field keys
    (re.compile(r"^required before entering “(?P<value>.*)”$"), gettext_noop("required before entering “%(value)s”")),
    (re.compile(r"^unknown field: (?P<value>.*)$"), gettext_noop("unknown field: %(value)s")),
    # outbox
    (re.compile(r"^an idempotency key of 1-(?P<value>\d+) characters without spaces or dots$"),
     gettext_noop("an idempotency key of 1-%(value)s characters without spaces or dots")),
    (re.compile(r"^unknown event; known: (?P<value>.*)$"), gettext_noop("unknown event; known: %(value)s")),
    (re.compile(r"^renders to more than (?P<value>\d+) characters$"),
     gettext_noop("renders to more than %(value)s characters")),
    # the template engine's own message stays English (it is Django's, untranslated)
    (re.compile(r"^does not parse: (?P<value>.*)$", re.DOTALL), gettext_noop("does not parse: %(value)s")),
    (re.compile(r"^does not render: (?P<error>\w+): (?P<value>.*)$", re.DOTALL),
     gettext_noop("does not render: %(error)s: %(value)s")),
    # webhook URLs (UrlRefused)
    (re.compile(r"^host (?P<value>\S+) does not resolve$"), gettext_noop("host %(value)s does not resolve")),
    (re.compile(r"^points at a private or reserved address \((?P<value>.*)\)$"),
     gettext_noop("points at a private or reserved address (%(value)s)")),
    # robots' run results (okno/robots/actions.py), shown through reason_text by robots.selectors
    (re.compile(r"^notified (?P<value>.+)$"), gettext_noop("notified %(value)s")),
    (re.compile(r"^responsible: (?P<value>.+)$"), gettext_noop("responsible: %(value)s")),
    (re.compile(r"^assignee: (?P<value>.+)$"), gettext_noop("assignee: %(value)s")),
    (re.compile(r"^moved to (?P<value>.+)$"), gettext_noop("moved to %(value)s")),
    (re.compile(r"^e-mail queued to (?P<value>.+)$"), gettext_noop("e-mail queued to %(value)s")),
    (re.compile(r"^SMS queued to (?P<value>.+)$"), gettext_noop("SMS queued to %(value)s")),
    (re.compile(r"^work item #(?P<value>\d+) due (?P<due>\S+)$"), gettext_noop("work item #%(value)s due %(due)s")),
    (re.compile(r"^recorded in (?P<value>.+)$"), gettext_noop("recorded in %(value)s")),
    (re.compile(r"^already in (?!the stage$)(?P<value>.+)$"), gettext_noop("already in %(value)s")),
    (re.compile(r"^loop stopped: robots moved this deal (?P<moves>\d+) times within (?P<minutes>\d+) minutes; "
                r"robots will not move it again until a person does or the time passes$"),
     gettext_noop("loop stopped: robots moved this deal %(moves)s times within %(minutes)s minutes; "
                  "robots will not move it again until a person does or the time passes")),
    # duplicate search (okno/contacts/matching.py score_pair), shown on the card's duplicates
    (re.compile(r"^shared phone (?P<value>.+)$"), gettext_noop("shared phone %(value)s")),
    (re.compile(r"^same mailbox (?P<value>.+)$"), gettext_noop("same mailbox %(value)s")),
    (re.compile(r"^same phone (?P<value>.+)$"), gettext_noop("same phone %(value)s")),
    # an automatic merge's reason (okno/contacts/identify.py)
    (re.compile(r"^one sender \((?P<source>.*)\) on both cards: (?P<value>.*)$"),
     gettext_noop("one sender (%(source)s) on both cards: %(value)s")),
    (re.compile(r"^one sender on both cards: (?P<value>.*)$"), gettext_noop("one sender on both cards: %(value)s")),
    (re.compile(r"^same e-mail name (?P<value>.+)$"), gettext_noop("same e-mail name %(value)s")),
    (re.compile(r"^same e-mail (?P<value>.+)$"), gettext_noop("same e-mail %(value)s")),
    (re.compile(r"^name (?P<value>\d+)% similar$"), gettext_noop("name %(value)s%% similar")),
    (re.compile(r"^phone one digit apart (?P<value>.+)$"), gettext_noop("phone one digit apart %(value)s")),
    # work settings and the dialer's (okno/work/queue_settings.py, dialer.py), work items' kinds
    (re.compile(r"^must be a whole number from (?P<least>-?\d+) to (?P<most>-?\d+)$"),
     gettext_noop("must be a whole number from %(least)s to %(most)s")),
    (re.compile(r"^unknown kind; one of (?P<value>.*)$"), gettext_noop("unknown kind; one of %(value)s")),
    # online stores' answers (okno/stores/adapters), shown in the sync log and the "test connection" answer
    (re.compile(r"^the store answered something that is not JSON: (?P<value>.*)$", re.DOTALL),
     gettext_noop("the store answered something that is not JSON: %(value)s")),
    (re.compile(r"^pretix has no action for the status (?P<value>.*): use one of (?P<choices>.*)$"),
     gettext_noop("pretix has no action for the status %(value)s: use one of %(choices)s")),
]


def reason_text(reason: str) -> str:
    """A service's reason in the user's language when we have a translation for it; a reason
    made of phrases joined by ", " (a duplicate's evidence) phrase by phrase."""
    whole = _reason_whole(reason)
    if whole is not None or ", " not in reason:
        return reason if whole is None else whole
    return ", ".join(_reason_whole(part) or part for part in reason.split(", "))


def _reason_whole(reason: str) -> str | None:
    translated = _(reason)
    if translated != reason:
        return translated
    for pattern, template in PATTERNED_REASONS:
        match = pattern.match(reason)
        if match:
            values = match.groupdict(default="")
            try:
                return _(template) % values
            except (KeyError, ValueError, TypeError):  # a translation that names another placeholder
                return template % values
    return None
