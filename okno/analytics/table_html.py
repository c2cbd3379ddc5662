"""A report table's rows as HTML, built in Python rather than by including a row template per
row: a year by 500 employees is 500 rows of 8 figures, each with its previous value, its change
and a link: 18,000 template nodes, 60 % of the calls page's 550 ms of server time. The markup is
the one the template drew (test_table_html.py compares the numbers with `floatformat:"-1g"`)."""

from datetime import date

from django.utils import formats
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from okno.analytics.table import Row

DASH = "—"


class Numbers:
    """`floatformat:"-1g"` for the report's figures, with the language's separators read once:
    whole numbers without decimals, others with one (the report rounds them to 0.1 already),
    thousands grouped."""

    def __init__(self) -> None:
        decimal = formats.get_format("DECIMAL_SEPARATOR")
        thousand = formats.get_format("THOUSAND_SEPARATOR")
        # One pass over the text, and none for the separators Python writes already.
        self.table = None if (decimal, thousand) == (".", ",") else str.maketrans({".": decimal, ",": thousand})

    def __call__(self, value) -> str:
        if type(value) is int:  # most figures are counts: 13,000 cells a year by 500 employees
            text = f"{value:,}"
        else:
            value = round(value, 1)
            text = f"{int(value):,}" if float(value).is_integer() else f"{value:,.1f}"
        return text.translate(self.table) if self.table else text


def rows_html(rows: list[Row], *, compared: bool, total: bool = False) -> SafeString:
    num = Numbers()
    out = []
    for row in rows:
        cells = []
        for c in row.cells:
            if c.value is None:
                text = DASH
            elif c.link:
                text = f'<a href="{escape(c.link)}" class="figure-link">{num(c.value)}</a>'
            else:
                text = num(c.value)
            if compared:
                before = DASH if c.previous is None else num(c.previous)
                if c.change is not None:
                    tone = "up-good" if c.good else ("up-bad" if c.good is False else "")
                    before += f' <span class="{tone}">{"+" if c.change > 0 else ""}{num(c.change)}%</span>'
                text += f'<span class="prev">{before}</span>'
            cells.append(f'<td class="num">{text}</td>')
        ident = ' id="report-totals"' if total else ""
        out.append(f'<tr{ident}><td>{escape(row.label)}</td>{"".join(cells)}</tr>')
    return mark_safe("\n".join(out))  # noqa: S308 (every text above is escaped or a formatted number)


def options_html(choices: list[tuple[int, str]], selected: str | None) -> SafeString:
    """A select's options after its "All": a template loop over 500 employees was 2,600 variable
    look-ups and a model instance each (a third of the chats page's template time)."""
    out = []
    for pk, label in choices:
        mark = " selected" if selected == str(pk) else ""
        out.append(f'<option value="{pk}"{mark}>{escape(label)}</option>')
    return mark_safe("".join(out))  # noqa: S308 (the labels are escaped, the values are ids)


def filter_context(user, params: dict) -> dict:
    """The department and employee filters' choices (analytics/_people_fields.html) `user` may pick."""
    from okno.analytics.labels import display_name
    from okno.analytics.scope import departments_for_filter, employees_for_filter

    employees = [(pk, display_name(first, last, username)) for pk, first, last, username in
                 employees_for_filter(user).values_list("pk", "first_name", "last_name", "username")]
    departments = list(departments_for_filter(user).values_list("pk", "name"))
    return {"employees": employees, "departments": departments,
            "employee_options": options_html(employees, params.get("employee")),
            "department_options": options_html(departments, params.get("department"))}


def table_context(report: dict, rows: list[Row], totals: Row) -> dict:
    """What analytics/_table.html and the period line above it need, for every report page."""
    compared = "previous" in report
    previous = report.get("previous", {})
    dates = (("from", report["from"]), ("to", report["to"]), ("previous_from", previous.get("from")),
             ("previous_to", previous.get("to")))
    return {"report": report, "rows": rows, "totals": totals, "compared": compared,
            "rows_html": rows_html(rows, compared=compared),
            "totals_html": rows_html([totals], compared=compared, total=True),
            "shown": {k: date.fromisoformat(v) for k, v in dates if v}}
