"""The replay's reading shell: history for whole months (policy timezone) out of DuckDB.

The rules (`enforcement/`) never import DuckDB; this module reads the three event kinds
with the SQL in `replay_*.sql` and hands them over as plain columns (`History`).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd

from enforcement.replay import History, from_us, month_range_us
from loaders.publish import connect_read_only
from queries import Connection, QueryEngine, run


def month_bounds(start: str, end: str, tz: str) -> tuple[datetime, datetime]:
    """Naive-UTC [first instant of `start`, first instant after `end`) in timezone `tz`."""
    lo, hi = month_range_us(start, end, tz)
    return from_us(lo).replace(tzinfo=None), from_us(hi).replace(tzinfo=None)


def _requests_query(con: duckdb.DuckDBPyConnection) -> str:
    """A database loaded before the runtime's columns existed is read as it was written."""
    has = int(run(con, "runtime_columns")["n"].iloc[0])
    return "replay_requests" if has == 2 else "replay_requests_unrecorded"


def _with_recorded(requests: pd.DataFrame, recorded: pd.DataFrame) -> pd.DataFrame:
    """The runtime's recorded outcome beside each of its requests; other requests were
    recorded only as their counted cost (reason None, tokens -1)."""
    out = requests.merge(recorded, on="event_id", how="left")
    out["recorded_cost_micro"] = out["recorded_cost_micro"].fillna(out["cost_micro"]).astype(
        "int64")
    out["recorded_tokens"] = out["recorded_tokens"].fillna(-1).astype("int64")
    out["recorded_reason"] = out["recorded_reason"].astype(object).where(
        out["recorded_reason"].notna(), None)
    return out


def read_history(db: Path | str | Connection, start: str, end: str, tz: str) -> History:
    """Counted requests, revenue and affiliate clicks of months `start`..`end` (YYYY-MM).

    `db` is a database file or an open connection: DuckDB's (on the database or a lake) or
    another engine's (Spark: the reads run there, the fold here)."""
    lo, hi = month_bounds(start, end, tz)
    open_already = isinstance(db, duckdb.DuckDBPyConnection | QueryEngine)
    con = db if open_already else connect_read_only(Path(db))
    try:
        requests_query = _requests_query(con)
        frames = [run(con, name, start=lo, end=hi)
                  for name in (requests_query, "replay_revenue", "replay_clicks")]
        recorded = (run(con, "replay_recorded", start=lo, end=hi)
                    if requests_query == "replay_requests" else None)
    finally:
        if con is not db:
            con.close()
    requests, revenue, clicks = frames
    if recorded is not None and len(recorded):
        requests = _with_recorded(requests, recorded)
    revenue["tokens"] = revenue["tokens"].astype("Int64")
    return History.from_frames(requests, revenue, clicks)
