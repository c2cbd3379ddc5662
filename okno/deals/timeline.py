"""How a deal's activities are drawn on the card's timeline: the deal as it is now."""

from okno.deals.models import Deal
from okno.timeline.models import Activity
from okno.timeline.registry import details_of


def deals_for_timeline(activities: list[Activity]) -> dict[int, Deal]:
    """Activity id -> its Deal (stage loaded), one query for the whole page."""
    wanted = details_of(activities, Deal)
    deals = Deal.objects.select_related("stage").in_bulk(set(wanted.values()))
    return {pk: deals[deal_id] for pk, deal_id in wanted.items() if deal_id in deals}
