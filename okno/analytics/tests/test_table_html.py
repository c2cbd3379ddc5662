"""The report tables' rows drawn in Python (okno.analytics.table_html) show each number as the
template's `floatformat:"-1g"` did, in Russian and in English, and escape the labels."""

import pytest
from django.template.defaultfilters import floatformat
from django.utils import translation

from okno.analytics.table import Cell, Row
from okno.analytics.table_html import Numbers, rows_html

VALUES = [0, 7, -3, 999, 1000, 12345, 1234567, 0.5, 2.0, 20.1, -12.5, 1234.5, 99999.9, 100.0, -1000.4]


@pytest.mark.parametrize("language", ["ru", "en"])
def test_numbers_read_as_the_template_filter_wrote_them(language):
    with translation.override(language):
        num = Numbers()
        for value in VALUES:
            assert num(value) == floatformat(value, "-1g"), (language, value)


def test_a_row_escapes_its_label_and_links_and_shows_the_change():
    row = Row(1, '<b>"Анна"</b>', [Cell(1200, 1000, 20.0, True, link="/telephony/calls/?a=1&b=2"), Cell(None)])
    with translation.override("en"):
        html = rows_html([row], compared=True)
    assert "&lt;b&gt;&quot;Анна&quot;&lt;/b&gt;" in html
    assert '<a href="/telephony/calls/?a=1&amp;b=2" class="figure-link">1,200</a>' in html
    assert '<span class="prev">1,000 <span class="up-good">+20%</span></span>' in html
    assert '<td class="num">—<span class="prev">—</span></td>' in html
