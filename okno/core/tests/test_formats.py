"""Dates one way per language, money grouped with its currency (issue 15, "Formats")."""

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template
from django.utils import translation

AT = datetime(2026, 12, 2, 22, 30, tzinfo=ZoneInfo("Europe/Moscow"))
TEMPLATE = Template(
    "{% load deals_ui %}{{ at }}|{{ at|date:'SHORT_DATETIME_FORMAT' }}|{{ at|date:'DATETIME_FORMAT' }}|"
    "{{ day|date }}|{{ day|date:'SHORT_DATE_FORMAT' }}|{{ amount|money:'RUB' }}"
)


def render(lang: str) -> list[str]:
    with translation.override(lang):
        return TEMPLATE.render(Context({"at": AT, "day": AT.date(), "amount": Decimal("250000")})).split("|")


@pytest.mark.parametrize(("lang", "stamp", "date", "money"), [
    ("ru", "02.12.2026 22:30", "02.12.2026", "250\xa0000,00\xa0₽"),
    ("en", "2 Dec 2026, 22:30", "2 Dec 2026", "250,000.00\xa0₽"),
])
def test_one_format_per_language(lang, stamp, date, money):
    plain, short, long, day, short_day, amount = render(lang)
    # then: the default, short and long forms of a moment agree, and no a.m./p.m.
    assert plain == short == long == stamp
    assert day == short_day == date
    assert amount == money
    assert "m." not in plain
