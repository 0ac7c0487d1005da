"""`queries.run_per_user` (through Arrow) gives the very frame `queries.run` (DuckDB's
`.df()`) gives, for every query that uses it: strings, integers, timestamps and an
integer column with NULLs (a user without a token balance)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from loaders.publish import connect_read_only
from queries import kpis, rollups, run, run_per_user, weekly

WEEK = "2026-W12"


def _params(con: object, name: str) -> dict:
    b = weekly.week_bounds(WEEK, "UTC")
    policy = kpis.resolve_policy(None)
    if name.startswith("user_totals"):
        start, end = kpis.mtd_bounds(kpis.make_period("day", "2026-03-20", "UTC"))
        start, end = kpis.to_utc(start), kpis.to_utc(end)
        return rollups.window(start, end) if name.endswith("rollup") else {
            "start": start, "end": end}
    return {**b.params(), "warning_micro": policy.warning, "cutoff_micro": policy.cutoff}


@pytest.mark.parametrize("name", ["user_totals", "user_totals_rollup", "weekly_users",
                                  "weekly_users_rollup", "weekly_interventions",
                                  "weekly_interventions_rollup"])
def test_the_arrow_frame_is_the_frame_duckdb_makes(demo_db: Path, name: str) -> None:
    con = connect_read_only(demo_db)
    try:
        params = _params(con, name) | ({"tz": "UTC"} if name == "weekly_users" else {})
        want, got = run(con, name, **params), run_per_user(con, name, **params)
    finally:
        con.close()
    assert len(want) > 10
    pd.testing.assert_frame_equal(got, want)
    if name.startswith("weekly_users"):
        assert got["token_balance"].isna().any() and got["token_balance"].notna().any()
        assert str(got["token_balance"].dtype) == "Int32"
