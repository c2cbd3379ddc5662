"""The calls report as the page shows it: one list of numbers per row, the same list the CSV and
XLSX exports write, so an export is exactly what is on the screen."""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

UNITS = {"min": 60, "h": 3600}
# (figure, column title, lower is better, divide by the unit): durations per call stay in seconds.
COLUMNS = [
    ("calls", _("Calls"), False, False),
    ("successful", _("Successful"), False, False),
    ("missed", _("Missed"), True, False),
    ("missed_not_called_back", _("Missed, not called back"), True, False),
    ("talk_seconds", _("Talk time"), False, True),
    ("talk_seconds_avg", _("Average talk, s"), False, False),
    ("wait_seconds_avg", _("Average wait, s"), True, False),
    ("callback_seconds_avg", _("Average time to call back, s"), True, False),
]


@dataclass
class Cell:
    value: float | int | None
    previous: float | int | None = None
    change: float | None = None  # % against the previous period
    good: bool | None = None  # the change is an improvement (green) or not (red)
    link: str | None = None  # the calls behind the figure (okno.analytics.calls_links)


@dataclass
class Row:
    key: object
    label: str
    cells: list[Cell]


def _scaled(value, divide: bool, unit: str):
    if value is None or not divide:
        return value
    return round(value / UNITS[unit], 1)


def _cell(figure: str, lower_better: bool, divide: bool, unit: str, now: dict, before: dict | None) -> Cell:
    value = _scaled(now.get(figure), divide, unit)
    if before is None:
        return Cell(value)
    previous = _scaled(before.get(figure), divide, unit)
    change = good = None
    if value is not None and previous:
        change = round((value - previous) * 100 / previous, 1)
        good = None if change == 0 else (change < 0) == lower_better
    return Cell(value, previous, change, good)


def headers(*, unit: str, compared: bool) -> list[str]:
    out = [str(_("Group"))]
    for _figure, title, _lower, divide in COLUMNS:
        title = f"{title}, {_('h') if unit == 'h' else _('min')}" if divide else str(title)
        out.append(title)
        if compared:
            out += [f"{title}: {_('previous period')}", f"{title}: {_('change, %')}"]
    return out


def report_table(report: dict, *, unit: str = "min") -> tuple[list[Row], Row]:
    """(rows, totals) of a report from okno.analytics.calls_report; with a comparison, each row is
    set beside the previous period's row of the same key (by position for days)."""
    previous = report.get("previous")
    compared = previous is not None
    before_rows: dict = {}
    if compared:
        if report["group_by"] == "day":
            before_rows = {i: r for i, r in enumerate(previous["rows"])}
        else:
            before_rows = {r["key"]: r for r in previous["rows"]}
    rows = []
    for i, r in enumerate(report["rows"]):
        before = (before_rows.get(i if report["group_by"] == "day" else r["key"]) or {}) if compared else None
        rows.append(Row(r["key"], str(r["label"]),
                        [_cell(f, lower, divide, unit, r, before) for f, _t, lower, divide in COLUMNS]))
    totals = Row(None, str(_("Total")), [
        _cell(f, lower, divide, unit, report["totals"], previous["totals"] if compared else None)
        for f, _t, lower, divide in COLUMNS])
    return rows, totals


def flat(row: Row, *, compared: bool) -> list:
    """One line of an export: the label, then each figure (and its previous value and change)."""
    out: list = [row.label]
    for cell in row.cells:
        out.append(cell.value)
        if compared:
            out += [cell.previous, cell.change]
    return out
