"""Every `.sql` file in queries/ is written in the subset of DuckDB's dialect that SQLGlot
transpiles to Spark SQL cleanly, and means the same there.

Two checks, because each alone is too weak. Statically, for every file: SQLGlot knows
every function (no `Anonymous` one, which it would pass through unchanged and Spark may
not have or may read differently), raises on nothing unsupported, and its Spark text
parses back as Spark SQL. And by running, for every file: the Spark text runs in the
test run's SparkSession over the demo business's lake and returns the same rows, dtype
for dtype, as DuckDB over the same lake; only running shows that a function Spark has
means the same (DuckDB's `timezone()` of a naive instant, for one, has no Spark twin).
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest
import sqlglot
from sqlglot import exp

from loaders.lake import connect_lake
from queries import SQL_DIR, duckdb_only, run, sql_text
from queries.engine import SparkEngine, spark_sql
from tests.conftest import SPARK_GROUP

# The rollups' twins run only on DuckDB files our publish wrote (tests/test_rollups.py),
# the replay's one read only on DuckDB (tests/test_history_read.py).
QUERIES = sorted(p.stem for p in SQL_DIR.glob("*.sql") if not duckdb_only(p.stem))
# One value for every parameter any query binds (a query takes the ones it names).
PARAMS = {
    "start": datetime(2026, 3, 9), "end": datetime(2026, 3, 16),
    "prev_start": datetime(2026, 3, 2), "mtd_start": datetime(2026, 3, 1),
    "scan_start": datetime(2026, 3, 1), "tz": "Europe/Paris", "parts": 1, "part": 0,
    "first_day": date(2026, 2, 25), "last_day": date(2026, 3, 5), "target_micro": 3_000_000,
    "warning_micro": 1_500_000, "cutoff_micro": 2_000_000, "digits": "1", "limit": 50,
    "sources": ["demo", "files:costs.csv"], "user": "(the demo's first user)",
    "exact_order": True,
}


def parameters(name: str) -> set[str]:
    """The `$names` a query binds, as SQLGlot reads them (a `$` in a comment is not one)."""
    tree = sqlglot.parse_one(sql_text(name), read="duckdb")
    return {p.name for p in tree.find_all(exp.Parameter, exp.Placeholder)}


def test_the_queries_are_found():
    assert {"period_kpis", "replay_requests", "weekly_users"} <= set(QUERIES)
    assert "period_kpis_rollup" not in QUERIES and (SQL_DIR / "period_kpis_rollup.sql").exists()


@pytest.mark.parametrize("name", QUERIES)
def test_every_query_transpiles_to_spark_with_only_functions_sqlglot_knows(name: str) -> None:
    tree = sqlglot.parse_one(sql_text(name), read="duckdb")
    unknown = sorted({f.name for f in tree.find_all(exp.Anonymous)})
    assert unknown == [], f"{name}.sql: functions SQLGlot passes through untranslated"
    assert "GROUP BY ALL" not in spark_sql(name).upper()
    assert sqlglot.parse_one(spark_sql(name), read="spark") is not None  # round trip
    assert parameters(name) <= set(PARAMS), "a new parameter: give it a value in PARAMS"


def test_a_function_sqlglot_does_not_know_is_caught() -> None:
    # What the check above looks for: DuckDB's `epoch_us` passes through as-is.
    tree = sqlglot.parse_one("SELECT epoch_us(ts) FROM t", read="duckdb")
    assert [f.name for f in tree.find_all(exp.Anonymous)] == ["epoch_us"]


@pytest.fixture(scope="module")
def lake_pair(spark, demo_lake: Path):
    duck = connect_lake(demo_lake)
    yield duck, SparkEngine(spark, demo_lake)
    duck.close()


def _ordered(name: str) -> bool:
    tree = sqlglot.parse_one(sql_text(name), read="duckdb")
    return tree.args.get("order") is not None


@SPARK_GROUP
@pytest.mark.parametrize("name", QUERIES)
def test_every_query_returns_the_same_rows_on_spark(lake_pair, name: str) -> None:
    duck, spark = lake_pair
    params = {k: PARAMS[k] for k in parameters(name)}
    if "user" in params:
        params["user"] = duck.execute("SELECT min(user_id) FROM cost_events").fetchone()[0]
    want, got = run(duck, name, **params), run(spark, name, **params)
    if not _ordered(name):  # a query without ORDER BY promises no order
        want = want.sort_values(list(want.columns), ignore_index=True)
        got = got.sort_values(list(got.columns), ignore_index=True)
    pd.testing.assert_frame_equal(got, want)
