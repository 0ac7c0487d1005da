"""Keep the per-user-day rollups (loaders/sql/rollup_tables.sql) equal to the raw tables.

Every publish calls `refresh` before it checkpoints, so a reader never sees rollups that
disagree with the lines beside them: a day is rolled up again when its mark (a count and a
hash sum of its lines) moved, so a daily load rewrites a day or two, not the month. A
publish that names the UTC days it writes (`expect_writes`, `note_written_days`: the loading
path does) has only those days hashed again, and any day whose line count moved. The KPI
layer reads the rollups only where `rollup_state` matches the raw tables' row counts, and
the raw tables otherwise (a database written by another program stays exact).
"""

from __future__ import annotations

import argparse
import time as clock
from datetime import date, datetime, time, timedelta
from pathlib import Path

import duckdb

from loaders.registry import Source
from queries import sql_text
from queries.rollups import VERSION

SQL_DIR = Path(__file__).resolve().parent / "sql"
TABLES = ("rollup_users", "rollup_actions", "rollup_cost_days", "rollup_revenue_days",
          "rollup_breakdown_days", "rollup_cost_months", "rollup_revenue_months",
          "rollup_mtd_days", "rollup_accuracy_days", "rollup_day_marks", "rollup_state")
# Lines paired at once by weekly_estimate_accuracy.sql. A month of 1,000,000 users (89 M
# lines), by an earlier form of it: at once 104 s (it spilled), in 4 parts 72 s, in 9 parts
# 175 s (each part scans the month). Today in runs of days: 25 M lines a run 36.8-46.4 s,
# 12.5 M 42.2 s, 45 M 40.9 s (in 4 parts by phone 58-61 s).
ACCURACY_LINES_PER_PART = 25_000_000
LINES = ("rollup_cost_lines", "rollup_revenue_lines")  # tables, or views of every line
WRITTEN_DAYS = "rollup_written_days"  # TEMP: the UTC days a publish's writes touched
TEMP_TABLES = ("rollup_marks_now", "rollup_changed_days", *LINES, "rollup_changed_months",
               "rollup_accuracy_parts", "rollup_suspect_days", WRITTEN_DAYS)
EVER = (datetime(1, 1, 1), datetime(9999, 12, 31))  # every instant a TIMESTAMP of a line has


def _script(name: str) -> str:
    return (SQL_DIR / f"{name}.sql").read_text()


def create_tables(con: duckdb.DuckDBPyConnection) -> None:
    """The rollup tables, where they are missing (empty: not ready until a refresh)."""
    con.execute(_script("rollup_tables"))


def _current_layout(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the rollups here are of this code's layout (an older one is rebuilt)."""
    try:
        row = con.execute("SELECT version FROM rollup_state").fetchone()
    except (duckdb.CatalogException, duckdb.BinderException):
        return False
    return row is None or row[0] == VERSION


def refresh(con: duckdb.DuckDBPyConnection) -> int:
    """Roll up again every UTC day whose raw lines changed; returns how many days that was."""
    if not _current_layout(con):
        for table in TABLES:
            con.execute(f"DROP TABLE IF EXISTS {table}")
    create_tables(con)
    _mark_days(con)
    (changed,) = con.execute("SELECT count(*) FROM rollup_changed_days").fetchone()
    every_day = _every_day_changed(con)
    if changed or not con.execute("SELECT 1 FROM rollup_state").fetchone():
        con.execute(_script("rollup_lines_all" if every_day else "rollup_lines"))
        con.execute(_script("rollup_refresh"))
        _refresh_accuracy(con)
        con.execute("DELETE FROM rollup_state")
        con.execute("INSERT INTO rollup_state SELECT (SELECT count(*) FROM cost_events), "
                    "(SELECT count(*) FROM revenue_events), ?", [VERSION])
    for temp in TEMP_TABLES:
        kind = "VIEW" if every_day and temp in LINES else "TABLE"
        con.execute(f"DROP {kind} IF EXISTS {temp}")
    return int(changed)


def expect_writes(con: duckdb.DuckDBPyConnection) -> None:
    """Promise that this publish names every UTC day it adds a cost or revenue line to or
    changes one on (`note_written_days`): `refresh` then hashes only those days and the days
    whose line counts moved (one that only lost lines among them), not every line. A
    publish that writes no lines promises it with none."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE {WRITTEN_DAYS} (day DATE)")


def note_written_days(con: duckdb.DuckDBPyConnection, days_sql: str) -> None:
    """Add the days a query of one DATE column names to those `expect_writes` promised."""
    con.execute(f"INSERT INTO {WRITTEN_DAYS} {days_sql}")  # noqa: S608 (the caller's own SQL)


def _written_days_known(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(con.execute("SELECT count(*) FROM duckdb_tables() WHERE temporary "
                            "AND table_name = ?", [WRITTEN_DAYS]).fetchone()[0])


def _mark_days(con: duckdb.DuckDBPyConnection) -> None:
    """rollup_marks_now (each day's mark) and rollup_changed_days (the days whose moved):
    every day's hashed, or, where the publish named the days it wrote, those days' and the
    days whose counts moved, the other days' marks kept as they were."""
    con.execute("CREATE OR REPLACE TEMP TABLE rollup_marks_now AS FROM rollup_day_marks LIMIT 0")
    marks = _script("rollup_marks")
    if not _written_days_known(con):
        con.execute("CREATE OR REPLACE TEMP TABLE rollup_suspect_days (day DATE)")  # (unread)
        con.execute(marks, {"lo": EVER[0], "hi": EVER[1], "every_day": True})
    else:
        con.execute(_script("rollup_suspect_days"))
        con.execute("INSERT INTO rollup_marks_now "
                    "FROM rollup_day_marks ANTI JOIN rollup_suspect_days USING (day)")
        lo, hi = con.execute("SELECT min(day), max(day) FROM rollup_suspect_days").fetchone()
        if lo is not None:  # (the instants' bounds let zone maps skip the other days' lines)
            con.execute(marks, {"lo": datetime.combine(lo, time.min),
                                "hi": datetime.combine(hi + timedelta(days=1), time.min),
                                "every_day": False})
    con.execute(_script("rollup_changed_days"))


def _every_day_changed(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether every day with lines is to be rolled up (then all lines are the changed
    days' lines, and rollup_lines_all.sql names them instead of copying them)."""
    (kept,) = con.execute("SELECT count(*) FROM rollup_marks_now ANTI JOIN rollup_changed_days "
                          "USING (day)").fetchone()
    return kept == 0


def _runs(days: list[date]) -> list[tuple[date, date]]:
    """Consecutive days as half-open runs [first, last + 1 day)."""
    runs: list[tuple[date, date]] = []
    for day in days:
        if runs and runs[-1][1] == day:
            runs[-1] = (runs[-1][0], day + timedelta(days=1))
        else:
            runs.append((day, day + timedelta(days=1)))
    return runs


def _chunks(con: duckdb.DuckDBPyConnection, lo: date, hi: date) -> list[tuple[date, date, int]]:
    """[lo, hi) cut into runs of consecutive days of at most ACCURACY_LINES_PER_PART cost
    lines each (a day with more is a run of its own), with their line counts."""
    lines = dict(con.execute("SELECT day, cost_lines FROM rollup_marks_now "
                             "WHERE day >= ? AND day < ?", [lo, hi]).fetchall())
    chunks: list[tuple[date, date, int]] = []
    day = lo
    while day < hi:
        n = int(lines.get(day, 0))
        if chunks and chunks[-1][1] == day and chunks[-1][2] + n <= ACCURACY_LINES_PER_PART:
            chunks[-1] = (chunks[-1][0], day + timedelta(days=1), chunks[-1][2] + n)
        else:
            chunks.append((day, day + timedelta(days=1), n))
        day += timedelta(days=1)
    return chunks


def _refresh_accuracy(con: duckdb.DuckDBPyConnection) -> None:
    """Pair estimates with actuals again on each changed day and the day after it, since an
    actual pairs with an estimate up to two minutes before it: by the Weekly figure's own
    query (queries/weekly_estimate_accuracy.sql, one definition), over runs of consecutive
    days of at most ACCURACY_LINES_PER_PART lines, so none spills (the query pairs the
    actuals of [start, end) from the lines two minutes before, so the runs' pairs are those
    of one pass), and a day with more lines in parts by phone (its last two characters). A
    run by days reads only its lines where the table is in time order (zone maps skip the
    rest) and tests no phone (the demo's month of 1,000,000 users in four parts by phone,
    each reading every line: 58-61 s)."""
    pairing = sql_text("weekly_estimate_accuracy")
    days = [d for (d,) in con.execute(
        "SELECT day FROM rollup_changed_days UNION "
        "SELECT CAST(day + INTERVAL 1 DAY AS DATE) FROM rollup_changed_days ORDER BY day"
    ).fetchall()]
    con.execute("DELETE FROM rollup_accuracy_days WHERE day = ANY(?)", [days])
    con.execute("CREATE OR REPLACE TEMP TABLE rollup_accuracy_parts AS "
                "FROM rollup_accuracy_days LIMIT 0")
    for lo, hi in _runs(days):
        for start, end, lines in _chunks(con, lo, hi):
            parts = max(1, -(-lines // ACCURACY_LINES_PER_PART))
            for part in range(parts):
                con.execute("INSERT INTO rollup_accuracy_parts " + pairing, {
                    "start": datetime.combine(start, time.min),
                    "end": datetime.combine(end, time.min), "parts": parts, "part": part})
    con.execute("INSERT INTO rollup_accuracy_days SELECT day, action, sum(pairs), "
                "sum(estimated_micro), sum(actual_micro), sum(abs_error_micro), "
                "sum(estimates_alone) FROM rollup_accuracy_parts GROUP BY day, action")


def rebuild(db: Path) -> int:
    """Drop and rebuild every rollup of `db` in one publish; returns the days rolled up."""
    from loaders.publish import new_version

    with new_version(Path(db)) as con:
        for table in TABLES:
            con.execute(f"DROP TABLE IF EXISTS {table}")
        return refresh(con)  # from empty tables: every day


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", type=Path, default=Path("data/profit.duckdb"),
                        help="the DuckDB file (default: data/profit.duckdb)")


def main(args: argparse.Namespace) -> int:
    t0 = clock.perf_counter()
    days = rebuild(args.db)
    print(f"rolled up {days:,} days of {args.db} in {clock.perf_counter() - t0:.1f} s")
    return 0


LOADER = Source(
    command="rollups", help="rebuild the per-user-day rollups the KPIs read (every load "
    "keeps them; this is for a database another program wrote)",
    add_arguments=add_arguments, main=main,
    example="  python -m loaders rollups --db data/profit.duckdb")
