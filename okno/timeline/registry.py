"""How each kind of Activity is shown on the card: every domain registers its own.

The card draws its timeline from this registry and imports no channel, PBX or deal module:
a domain that writes activities registers, from its own `apps.py`, the kinds it writes, a
template fragment that draws one entry, and a loader that fetches the details of a whole
page of its entries at once (one or a few queries per kind on the page, never one per
entry). A test walks `Activity.Kind` and names any kind nobody renders.

The fragment is rendered with `a` (the Activity, `a.author` loaded) and `detail` (what the
loader returned for it, or None when the loader found nothing: the fragment then shows the
activity's summary, so a detail row removed later never breaks the card).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from okno.timeline.models import Activity

# Activity id -> the detail the fragment draws.
Loader = Callable[[list[Activity]], dict[int, Any]]


@dataclass(frozen=True)
class TimelineRenderer:
    kinds: tuple[str, ...]
    template: str
    load: Loader | None = None


_by_kind: dict[str, TimelineRenderer] = {}


def register(*, kinds: list[str] | tuple[str, ...], template: str, load: Loader | None = None) -> TimelineRenderer:
    """Says how activities of `kinds` are drawn; a kind registered twice differently is a mistake."""
    renderer = TimelineRenderer(tuple(kinds), template, load)
    for kind in renderer.kinds:
        known = _by_kind.get(kind)
        if known is not None and known != renderer:
            raise ImproperlyConfigured(f"timeline kind {kind!r} is already drawn by {known.template}")
    for kind in renderer.kinds:
        _by_kind[kind] = renderer
    return renderer


def renderer_for(kind: str) -> TimelineRenderer | None:
    return _by_kind.get(kind)


def kinds_without_renderer() -> list[str]:
    return [kind for kind in Activity.Kind.values if kind not in _by_kind]


# Drawn with its summary alone: what no domain claimed (a kind stored by an older version).
FALLBACK = TimelineRenderer((), "timeline/_summary.html")


def timeline_prepare(activities: list[Activity]) -> list[Activity]:
    """Sets `timeline_template` and `timeline_detail` on each activity, loading details by kind in bulk."""
    groups: dict[TimelineRenderer, list[Activity]] = {}
    for a in activities:
        groups.setdefault(_by_kind.get(a.kind, FALLBACK), []).append(a)
    for renderer, members in groups.items():
        details = renderer.load(members) if renderer.load else {}
        for a in members:
            a.timeline_template = renderer.template
            a.timeline_detail = details.get(a.pk)
    return activities


def details_of(activities: list[Activity], model) -> dict[int, int]:
    """Activity id -> detail id, for the activities that point at a row of `model` (no query:
    content types are cached)."""
    from django.contrib.contenttypes.models import ContentType

    type_id = ContentType.objects.get_for_model(model).pk
    return {a.pk: a.detail_id for a in activities if a.detail_type_id == type_id and a.detail_id}
