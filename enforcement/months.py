"""Instants and calendar months: integer micro-seconds (UTC) and month indexes in a timezone.

Both the fold (`fold.py`) and the replays need them, and neither may import the other's
module for it, so they live here on their own. A month index is `year * 12 + month - 1`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_us(instant: datetime) -> int:
    """An instant as integer micro-seconds since the epoch (naive means UTC)."""
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return (instant - EPOCH) // timedelta(microseconds=1)


def from_us(us: int) -> datetime:
    """Micro-seconds since the epoch as an aware UTC datetime."""
    return EPOCH + timedelta(microseconds=int(us))


def parse_month(text: str) -> int:
    """"2026-03" -> a month index (year * 12 + month - 1); ValueError on anything else."""
    try:
        year, month = text.split("-")
        y, m = int(year), int(month)
    except ValueError:
        raise ValueError(f"not a month (YYYY-MM): {text!r}") from None
    if len(year) != 4 or len(month) != 2 or not 1 <= m <= 12:
        raise ValueError(f"not a month (YYYY-MM): {text!r}")
    return y * 12 + m - 1


def month_label(index: int) -> str:
    """A month index as "YYYY-MM", the label every table and summary uses."""
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


@lru_cache(maxsize=4096)
def month_start_us(index: int, tz: str) -> int:
    """The first instant of a calendar month in the policy timezone, in UTC micro-seconds."""
    return to_us(datetime(index // 12, index % 12 + 1, 1, tzinfo=ZoneInfo(tz)))


def month_of(instant_us: int, tz: str) -> int:
    """The calendar month (index) that an instant falls in, in the policy timezone."""
    local = from_us(instant_us).astimezone(ZoneInfo(tz))
    return local.year * 12 + local.month - 1


def month_range_us(start: str, end: str, tz: str) -> tuple[int, int]:
    """[first instant of `start`, first instant after `end`) in UTC micro-seconds."""
    first, last = parse_month(start), parse_month(end)
    if last < first:
        raise ValueError(f"end month {end} is before start month {start}")
    return month_start_us(first, tz), month_start_us(last + 1, tz)
