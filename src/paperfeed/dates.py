"""The days paperfeed accepts from readers: in periods (``?date=``, ``?week=``, ``?month=``),
search forms and the query language (``year:``, ``before:``, ``after:``).

Python's dates end at 0001-01-01 and 9999-12-31, while the code computes from what a reader asks
for: the next midnight (an end-exclusive bound), the day before (``before:``), a period's last
day and its neighbours. Keeping a year of room on either side keeps all of them representable,
so a request outside this span is refused (400) instead of overflowing (500).
"""

from __future__ import annotations

import datetime as dt

from paperfeed.errors import Invalid

FIRST_DAY = dt.date(2, 1, 1)
LAST_DAY = dt.date(9998, 12, 31)


def check_day(day: dt.date, what: str = "dates") -> dt.date:
    """`day` when it lies between FIRST_DAY and LAST_DAY; Invalid naming `what` otherwise."""
    if not FIRST_DAY <= day <= LAST_DAY:
        raise Invalid(f"{what} must lie between {FIRST_DAY} and {LAST_DAY} (got {day})")
    return day
