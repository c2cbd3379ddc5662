"""The navigation shell's items: every domain registers its own pages, from its own `apps.py`.

The sidebar (okno/templates/includes/sidebar.html) draws the sections below in order, each with
the items registered into it, sorted by `order`. core imports no domain: an item names its page
by URL name, and its counter is a function the domain gives.

    from okno.core import navigation
    navigation.register_item(navigation.WORK, "my_leads", _("My leads"), "deals:leads", order=20,
                             counter=my_open_leads_count, visible=lambda user: True)

- `url_name` that does not resolve (a page not built yet, an app taken out) hides the item and
  logs once; the page still renders.
- `visible(user) -> bool` decides who sees it (administrators' settings, heads' pages); by
  default everyone signed in.
- `counter(user) -> int | Counter` must be cheap: one indexed COUNT. It runs only for visible
  items, once per full page (the context processor is lazy and caches on the request; htmx
  fragments never draw the sidebar). A counter that fails is logged and shown as nothing, so a
  broken count never takes a page down. Return a `Counter` to mark it as an alert (red) or to
  give it a title.
- `match`: URL prefixes that also make the item the current one (e.g. a card under a list).
  The current item is the one whose URL (or match prefix) is the longest prefix of the path;
  "/" is current only on "/". An item with `query` (a filtered view of another item's page,
  like "Unassigned" on all leads with `assignee=none`) is current only when the request has it.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Section:
    key: str
    label: Promise | str
    order: int


WORK = Section("work", _("Work"), 10)
COMMUNICATIONS = Section("communications", _("Communications"), 20)
# Room left for what follows (issue 12): analytics and the manager screen register here.
REPORTS = Section("reports", _("Reports"), 30)
SETTINGS = Section("settings", _("Settings"), 90)
SECTIONS = {s.key: s for s in (WORK, COMMUNICATIONS, REPORTS, SETTINGS)}


@dataclass(frozen=True)
class Counter:
    value: int
    alert: bool = False
    title: Promise | str = ""


def _everyone(user) -> bool:
    return True


def admins_only(user) -> bool:
    return bool(getattr(user, "is_admin", False))


def heads_and_admins(user) -> bool:
    return bool(getattr(user, "is_admin", False) or getattr(user, "role", "") == "head")


@dataclass(frozen=True)
class NavItem:
    section: str
    key: str
    label: Promise | str
    url_name: str
    order: int
    counter: Callable[[Any], "int | Counter | None"] | None = None
    visible: Callable[[Any], bool] = _everyone
    match: tuple[str, ...] = ()
    # Extra HTML attributes' values the template needs (an id for tests and scripts).
    dom_id: str = ""
    query: str = ""


_items: dict[str, NavItem] = {}
_unresolved_logged: set[str] = set()


def register_item(section: Section | str, key: str, label: Promise | str, url_name: str, *, order: int,
                  counter: Callable[[Any], "int | Counter | None"] | None = None,
                  visible: Callable[[Any], bool] | None = None, match: tuple[str, ...] | list[str] = (),
                  dom_id: str = "", query: str = "") -> NavItem:
    """Adds a page to the sidebar. `key` is unique; registering the same key again (apps.py run
    twice by a test runner) replaces it only when it is the same page, else it is a mistake."""
    section_key = section.key if isinstance(section, Section) else section
    if section_key not in SECTIONS:
        raise ImproperlyConfigured(f"navigation section {section_key!r} is not one of {sorted(SECTIONS)}")
    item = NavItem(section_key, key, label, url_name, order, counter, visible or _everyone, tuple(match),
                   dom_id or f"nav-{key.replace('_', '-')}", query)
    known = _items.get(key)
    if known is not None and (known.url_name, known.section) != (item.url_name, item.section):
        raise ImproperlyConfigured(f"navigation item {key!r} is already {known.url_name}")
    _items[key] = item
    return item


def registered_items() -> list[NavItem]:
    return sorted(_items.values(), key=lambda i: (SECTIONS[i.section].order, i.order, i.key))


@dataclass
class ShownItem:
    key: str
    label: Promise | str
    url: str
    dom_id: str
    counter: Counter | None = None
    active: bool = False


@dataclass
class ShownSection:
    key: str
    label: Promise | str
    items: list[ShownItem] = field(default_factory=list)


def _url(item: NavItem) -> str | None:
    try:
        url = reverse(item.url_name)
    except NoReverseMatch:
        if item.url_name not in _unresolved_logged:
            _unresolved_logged.add(item.url_name)
            log.warning("navigation item %s: no URL named %s; hidden", item.key, item.url_name)
        return None
    return url + (f"?{item.query}" if item.query else "")


def _count(item: NavItem, user) -> Counter | None:
    if item.counter is None:
        return None
    try:
        value = item.counter(user)
    except Exception:  # a broken count must not take the page down
        log.exception("navigation counter %s failed", item.key)
        return None
    if value is None:
        return None
    return value if isinstance(value, Counter) else Counter(int(value))


def _is_visible(item: NavItem, user) -> bool:
    try:
        return bool(item.visible(user))
    except Exception:
        log.exception("navigation visibility %s failed", item.key)
        return False


def _query_matches(item: NavItem, query) -> bool:
    """An item with a query ("assignee=none") is current only when the page was asked with it."""
    if not item.query:
        return True
    wanted = parse_qs(item.query)
    return all(query is not None and query.getlist(k) == v for k, v in wanted.items())


def navigation_for(user, path: str, query=None) -> list[ShownSection]:
    """The sections and items `user` sees, with counters and the current item marked
    (`query`: the request's GET, for items that are a filtered view of another's page)."""
    sections: dict[str, ShownSection] = {}
    best: tuple[int, ShownItem] | None = None
    for item in registered_items():
        if not _is_visible(item, user):
            continue
        url = _url(item)
        if url is None:
            continue
        shown = ShownItem(item.key, item.label, url, item.dom_id, _count(item, user))
        section = SECTIONS[item.section]
        sections.setdefault(section.key, ShownSection(section.key, section.label)).items.append(shown)
        if not _query_matches(item, query):
            continue
        base = url.split("?", 1)[0]
        for prefix in (base, *item.match):
            hit = path == prefix if prefix == "/" else path.startswith(prefix)
            # Of two items on the same page, the one whose query the request carries wins.
            score = len(prefix) * 2 + (1 if item.query else 0)
            if hit and (best is None or score > best[0]):
                best = (score, shown)
    if best is not None:
        best[1].active = True
    return list(sections.values())


def navigation(request: HttpRequest) -> dict:
    """Context processor. Lazy: the sidebar's items and counters are computed only when a page
    draws them, once per request."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def sections() -> list[ShownSection]:
        if not hasattr(request, "_okno_navigation"):
            request._okno_navigation = navigation_for(user, request.path, request.GET)
        return request._okno_navigation

    return {"nav_sections": sections}
