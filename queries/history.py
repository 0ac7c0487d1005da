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
from queries import run


def month_bounds(start: str, end: str, tz: str) -> tuple[datetime, datetime]:
    """Naive-UTC [first instant of `start`, first instant after `end`) in timezone `tz`."""
    lo, hi = month_range_us(start, end, tz)
    return from_us(lo).replace(tzinfo=None), from_us(hi).replace(tzinfo=None)


def _requests_query(con: duckdb.DuckDBPyConnection) -> str:
    """A database loaded before the runtime's columns existed is read as it was written."""
    has = int(run(con, "runtime_columns")["n"].iloc[0])
    return "replay_requests" if has == 2 else "replay_requests_unrecorded"


def read_history(db: Path | str | duckdb.DuckDBPyConnection, start: str, end: str,
                 tz: str) -> History:
    """Counted requests, revenue and affiliate clicks of months `start`..`end` (YYYY-MM)."""
    lo, hi = month_bounds(start, end, tz)
    con = db if isinstance(db, duckdb.DuckDBPyConnection) else connect_read_only(Path(db))
    try:
        frames = [run(con, name, start=lo, end=hi)
                  for name in (_requests_query(con), "replay_revenue", "replay_clicks")]
    finally:
        if con is not db:
            con.close()
    requests, revenue, clicks = frames
    revenue["tokens"] = revenue["tokens"].astype("Int64")
    return History.from_frames(requests, revenue, clicks)
