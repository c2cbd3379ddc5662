"""English dates one way everywhere: 3 Dec 2026 and 3 Dec 2026, 14:05. Django's en defaults
mixed "12/02/2026 10:30 p.m." with "Dec. 2, 2026"; a day-month-year order with the month's
name reads the same to a Russian colleague and cannot be taken for the American order, and
a CRM of a 24-hour business uses a 24-hour clock."""

DATE_FORMAT = "j M Y"
SHORT_DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "j M Y, H:i"
SHORT_DATETIME_FORMAT = "j M Y, H:i"
TIME_FORMAT = "H:i"
MONTH_DAY_FORMAT = "j F"
YEAR_MONTH_FORMAT = "F Y"
FIRST_DAY_OF_WEEK = 1
DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
