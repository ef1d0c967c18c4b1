"""Dates: versions in force on a date, calendar months, and Chinese working days (法定节假日 and 调休).

Used by every scheme (in-force checks), the deadline calculator and the interest subsidy (12-month windows).
"""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

from .errors import CalendarNotPublished

_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # [0-9]: \d matches other scripts' digits


def written_as_iso_day(text: str) -> bool:
    """YYYY-MM-DD in form, whether or not the day exists: told apart so that 2026-02-30 is called a day that does
    not exist, not a date written wrong."""
    return _ISO_DAY.fullmatch(text) is not None


def in_force(on: date, start: date, end: date | None) -> bool:
    """True if `on` lies in [start, end]; end None means open-ended."""
    return start <= on and (end is None or on <= end)


def add_months(day: date, months: int) -> date:
    """Same day-of-month `months` later, clamped to the month's last day (2025-08-31 + 6 -> 2026-02-28)."""
    month_index = day.month - 1 + months
    year = day.year + month_index // 12
    month = month_index % 12 + 1
    last = calendar.monthrange(year, month)[1]
    return date(year, month, min(day.day, last))


def is_working_day(day: date) -> bool:
    """Official working day, including 调休 weekend make-up days; raises CalendarNotPublished outside the data."""
    import chinese_calendar  # deferred: only deadline rules need it

    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        raise CalendarNotPublished(day.year) from None


def nth_working_day_after(event: date, n: int) -> tuple[date, list[date]]:
    """The n-th working day after `event`; day 1 is the first working day strictly after the event date.

    Returns the deadline and the working days counted, so a result can list them.
    """
    if n < 1:
        raise ValueError("n must be at least 1")
    counted: list[date] = []
    day = event
    while len(counted) < n:
        day += timedelta(days=1)
        if is_working_day(day):
            counted.append(day)
    return day, counted


def quarter_end(day: date) -> date:
    """The last day of the calendar quarter that contains `day`."""
    last_month = ((day.month - 1) // 3 + 1) * 3
    return date(day.year, last_month, calendar.monthrange(day.year, last_month)[1])
