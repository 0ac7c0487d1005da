"""Periods (core/periods.py): plain calendar arithmetic, and still importable from queries.kpis."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import pytest

from core import periods
from queries import kpis

ROOT = Path(__file__).resolve().parent.parent
NAMES = ("GRAINS", "Period", "parse_period", "period_name", "make_period", "shift_period",
         "previous_period", "period_bounds", "local_midnight", "to_utc", "zone", "mtd_bounds")


@pytest.mark.parametrize("name", NAMES)
def test_queries_kpis_re_exports_the_one_definition(name: str) -> None:
    assert getattr(kpis, name) is getattr(periods, name)


def test_periods_import_neither_duckdb_nor_the_query_layer() -> None:
    code = ("import sys, core.periods\n"
            "bad = [m for m in ('duckdb', 'streamlit', 'queries', 'dashboard')\n"
            "       if m in sys.modules]\n"
            "assert not bad, bad\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_a_month_in_new_york_is_bounded_by_local_midnights_across_the_dst_change() -> None:
    # EST (UTC-5) on 1 March 2026, EDT (UTC-4) from 8 March: 05:00 UTC to 04:00 UTC.
    p = periods.make_period("month", "2026-03", "America/New_York")
    assert p.utc() == (datetime(2026, 3, 1, 5), datetime(2026, 4, 1, 4))
    assert (p.first_day, p.last_day, p.label) == (date(2026, 3, 1), date(2026, 3, 31),
                                                  "March 2026")


def test_week_53_month_to_date_starts_with_the_month_of_its_last_day() -> None:
    # 2026-W53 runs Mon 28 Dec 2026 .. Sun 3 Jan 2027: month to date from 1 January 2027.
    p = periods.make_period("week", "2026-W53")
    start, end = periods.mtd_bounds(p)
    assert (periods.to_utc(start), periods.to_utc(end)) == (datetime(2027, 1, 1),
                                                            datetime(2027, 1, 4))


def test_shifting_crosses_years_and_previous_is_one_step_back() -> None:
    assert periods.shift_period("month", "2026-01", -1) == "2025-12"
    assert periods.shift_period("week", "2026-W53", 1) == "2027-W01"
    assert periods.previous_period("day", "2026-03-01") == "2026-02-28"


def test_a_malformed_period_says_the_form_expected() -> None:
    with pytest.raises(ValueError, match=r"expected YYYY-Www \(2026-W11\)"):
        periods.parse_period("week", "2026-11")
    with pytest.raises(ValueError, match="unknown timezone"):
        periods.zone("Mars/Olympus")
