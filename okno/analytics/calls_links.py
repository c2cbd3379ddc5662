"""Every figure of the calls table links to the calls behind it: the telephony's calls list
(/telephony/calls/) with exactly the figure's filters, so the list holds as many calls as the figure
counts (okno/analytics/tests/test_calls_drilldown.py checks it)."""

from urllib.parse import urlencode

from django.urls import reverse

from okno.analytics.table import COLUMNS, Row
from okno.telephony.call_list import NONE

# The calls behind each figure, as the list's `outcome` (and `direction`) filters.
BEHIND = {
    "calls": {}, "successful": {"outcome": "successful"}, "missed": {"outcome": "missed"},
    "missed_not_called_back": {"outcome": "missed_not_called_back"}, "talk_seconds": {"outcome": "answered"},
    "talk_seconds_avg": {"outcome": "answered"}, "wait_seconds_avg": {"direction": "in"},
    "callback_seconds_avg": {"outcome": "called_back"},
}
REPORT_FILTERS = ("direction", "line", "department", "employee", "outcome", "tag")
GROUP_FILTER = {"employee": "employee", "department": "department", "client": "client", "line": "line"}


def _group(group_by: str, key) -> list[tuple[str, str]] | None:
    """The list's filter for one row of the table; None when the list cannot name it (no line)."""
    if group_by == "day":
        return [("from", str(key)), ("to", str(key))]
    if key is None or key == "":
        return None if group_by == "line" else [(GROUP_FILTER[group_by], NONE)]
    return [(GROUP_FILTER[group_by], str(key))]


def figure_link(report: dict, figure: str, key=None, *, total: bool = False) -> str | None:
    """The URL of the calls behind `figure` of the row `key` (or of the totals)."""
    params: list[tuple[str, str]] = [("from", report["from"]), ("to", report["to"])]
    filters = report.get("filters") or {}
    params += [(name, str(filters[name])) for name in REPORT_FILTERS if name in filters]
    if not total:
        group = _group(report["group_by"], key)
        if group is None:
            return None
        names = {n for n, _v in group}
        params = [(n, v) for n, v in params if n not in names] + group
    behind = BEHIND[figure]
    if "direction" in behind:
        if filters.get("direction") not in (None, "", behind["direction"]):
            return None  # an outbound-only report has no waits: the figure is empty
        params = [(n, v) for n, v in params if n != "direction"] + [("direction", behind["direction"])]
    if "outcome" in behind and filters.get("outcome") != behind["outcome"]:
        params.append(("outcome", behind["outcome"]))  # with the report's own outcome: both hold
    return f"{reverse('telephony:calls')}?{urlencode(params)}"


def link_table(report: dict, rows: list[Row], totals: Row) -> None:
    """Puts each current figure's link on its cell (the compared period's values get none)."""
    for row in rows:
        for cell, (figure, *_rest) in zip(row.cells, COLUMNS, strict=True):
            cell.link = figure_link(report, figure, row.key)
    for cell, (figure, *_rest) in zip(totals.cells, COLUMNS, strict=True):
        cell.link = figure_link(report, figure, total=True)
