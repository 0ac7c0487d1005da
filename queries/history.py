"""The replay's reading shell: history for whole months (policy timezone) out of DuckDB.

The rules (`enforcement/`) never import DuckDB; this module reads the three event kinds
with the SQL in `replay_*.sql` and hands them over as plain columns (`History`).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb

from enforcement.replay import History, from_us, month_range_us
from loaders.publish import connect_read_only
from queries import Connection, QueryEngine, run


def month_bounds(start: str, end: str, tz: str) -> tuple[datetime, datetime]:
    """Naive-UTC [first instant of `start`, first instant after `end`) in timezone `tz`."""
    lo, hi = month_range_us(start, end, tz)
    return from_us(lo).replace(tzinfo=None), from_us(hi).replace(tzinfo=None)


def read_history(db: Path | str | Connection, start: str, end: str, tz: str) -> History:
    """Counted requests, revenue and affiliate clicks of months `start`..`end` (YYYY-MM).

    `db` is a database file or an open connection: DuckDB's (on the database or a lake) or
    another engine's (Spark: the reads run there, the fold here)."""
    lo, hi = month_bounds(start, end, tz)
    open_already = isinstance(db, duckdb.DuckDBPyConnection | QueryEngine)
    con = db if open_already else connect_read_only(Path(db))
    try:
        frames = [run(con, name, start=lo, end=hi)
                  for name in ("replay_requests", "replay_revenue", "replay_clicks")]
    finally:
        if con is not db:
            con.close()
    requests, revenue, clicks = frames
    revenue["tokens"] = revenue["tokens"].astype("Int64")
    return History.from_frames(requests, revenue, clicks)
