"""Periods: a day, ISO week or month, named as the spec writes it, with bounds in a timezone.

Plain calendar arithmetic (zoneinfo, no DuckDB), so it sits in core/ where every package
may import it: the KPIs and the weekly queries, the weekly report, the pages' period
picker and the alerts all name and bound periods the same way without importing the
query layer (and DuckDB with it). Bounds are local midnights; `Period.utc()` gives the
naive UTC instants that stored `ts` values compare with.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

GRAINS = ("day", "week", "month")

_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_FORMS = {"day": "YYYY-MM-DD (2026-03-14)", "week": "YYYY-Www (2026-W11)",
          "month": "YYYY-MM (2026-03)"}


@dataclass(frozen=True)
class Period:
    """One period: its grain, canonical name and local bounds [start, end) in `tz`."""

    grain: str
    name: str
    start: datetime  # aware, local midnight
    end: datetime    # aware, local midnight of the next period
    label: str
    tz: str

    @property
    def first_day(self) -> date:
        return self.start.date()

    @property
    def last_day(self) -> date:
        return (self.end - timedelta(days=1)).date()

    def utc(self) -> tuple[datetime, datetime]:
        """The bounds as naive UTC instants, the form `ts` is stored in."""
        return to_utc(self.start), to_utc(self.end)


def zone(tz: str) -> ZoneInfo:
    """The IANA timezone, or a ValueError that says what is wrong."""
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown timezone {tz!r}: use an IANA name such as Europe/Paris") \
            from None


def local_midnight(day: date, tz: str) -> datetime:
    """The first instant of a local day (fold=0: the earlier one if midnight repeats)."""
    return datetime.combine(day, time(0), tzinfo=zone(tz))


def to_utc(instant: datetime) -> datetime:
    """An aware instant as a naive UTC datetime."""
    return instant.astimezone(UTC).replace(tzinfo=None)


def _first_of_next_month(day: date) -> date:
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def parse_period(grain: str, period: str) -> tuple[date, date]:
    """The first and last local day of a period named as the spec writes it."""
    if grain not in GRAINS:
        raise ValueError(f"unknown grain {grain!r}: use one of {', '.join(GRAINS)}")
    text = str(period).strip()
    try:
        if grain == "day" and (m := _DAY.match(text)):
            first = date(int(m[1]), int(m[2]), int(m[3]))
            return first, first
        if grain == "week" and (m := _WEEK.match(text)):
            first = date.fromisocalendar(int(m[1]), int(m[2]), 1)
            return first, first + timedelta(days=6)
        if grain == "month" and (m := _MONTH.match(text)):
            first = date(int(m[1]), int(m[2]), 1)
            return first, _first_of_next_month(first) - timedelta(days=1)
    except ValueError as exc:
        raise ValueError(f"no such {grain}: {text!r} ({exc})") from None
    raise ValueError(f"malformed {grain} {text!r}: expected {_FORMS[grain]}")


def period_name(grain: str, day: date) -> str:
    """The canonical name of the period of `grain` that contains a local day."""
    if grain == "day":
        return day.isoformat()
    if grain == "week":
        iso = day.isocalendar()
        return f"{iso.year}-W{iso.week:02d}"
    if grain == "month":
        return f"{day.year}-{day.month:02d}"
    raise ValueError(f"unknown grain {grain!r}: use one of {', '.join(GRAINS)}")


def _label(grain: str, first: date, last: date) -> str:
    if grain == "day":
        return f"{first:%a %d %b %Y}"
    if grain == "week":
        iso = first.isocalendar()
        return f"Week {iso.week}, {iso.year} ({first:%d %b} – {last:%d %b %Y})"
    return f"{first:%B %Y}"


def make_period(grain: str, period: str, tz: str = "UTC") -> Period:
    """A period named as the spec writes it, with its local bounds in `tz`."""
    first, last = parse_period(grain, period)
    return Period(grain, period_name(grain, first), local_midnight(first, tz),
                  local_midnight(last + timedelta(days=1), tz), _label(grain, first, last), tz)


def period_bounds(grain: str, period: str, tz: str = "UTC") -> tuple[datetime, datetime, str]:
    """(start, end, label): aware local bounds [start, end) of a period; ValueError if malformed."""
    p = make_period(grain, period, tz)
    return p.start, p.end, p.label


def shift_period(grain: str, period: str, n: int) -> str:
    """The period n steps before (n < 0) or after (n > 0): the previous day, week or month."""
    first, _ = parse_period(grain, period)
    if grain == "day":
        return period_name(grain, first + timedelta(days=n))
    if grain == "week":
        return period_name(grain, first + timedelta(weeks=n))
    months = first.year * 12 + first.month - 1 + n
    return period_name(grain, date(months // 12, months % 12 + 1, 1))


def previous_period(grain: str, period: str) -> str:
    """The period just before: the day, week or month a comparison is made against."""
    return shift_period(grain, period, -1)


def mtd_bounds(p: Period) -> tuple[datetime, datetime]:
    """Month to date at the end of P: from the start of the month of P's last day to P's end."""
    return local_midnight(p.last_day.replace(day=1), p.tz), p.end
