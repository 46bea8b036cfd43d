"""Calendar arithmetic, defined once.

* Age is completed years on the as-of date (a birthday counts on its day; a
  29 February birthday counts on 1 March in other years).
* A duration in months is calendar months: ``months_between(d, d + k months) == k``.
  The part past the last whole month is the fraction of the next month's
  length, so 1 Jan 2025 -> 16 Feb 2025 is 1 + 15/28 months. Adding a month to 31 Jan
  gives the last day of February.
* A week is 7 days.
"""

from __future__ import annotations

import calendar
from datetime import date

#: the latest as-of (screening) date accepted: date arithmetic past it (a month or a day later) could leave
#: the calendar Python knows (year 9999); a later date is refused with a message, never a traceback
LAST_AS_OF = date(2999, 12, 31)


def add_months(day: date, months: int) -> date:
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def completed_years(born: date, on: date) -> int:
    years = on.year - born.year
    if (on.month, on.day) < (born.month, born.day):
        years -= 1
    return years


def months_between(start: date, end: date) -> float:
    """Calendar months from ``start`` to ``end`` (negative if ``end`` is earlier)."""
    if end < start:
        return -months_between(end, start)
    whole = (end.year - start.year) * 12 + end.month - start.month
    while whole > 0 and add_months(start, whole) > end:
        whole -= 1
    anchor = add_months(start, whole)
    following = add_months(start, whole + 1)
    return whole + (end - anchor).days / (following - anchor).days
