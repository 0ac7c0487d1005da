"""When and how the KPI layer reads the per-user-day rollups instead of the raw lines.

The rollups hold whole UTC days. A period in another timezone starts and ends inside a UTC
day, so a window is read as its whole UTC days from the rollups plus its two partial days'
edges from the raw lines: exact in every timezone. The `*_rollup.sql` files take a window's
parameters from `window()`; each is held equal to its raw twin by the tests.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import duckdb

from queries import Connection, records


def duckdb_only(name: str) -> bool:
    """The queries that read the rollups: only a DuckDB file our publish wrote has them (a
    lake and Spark read the raw lines' twins), so they are never transpiled."""
    return name == "rollup_ready" or name.endswith("_rollup")


def ready(con: Connection) -> bool:
    """True where the rollups exist and match the raw tables (never on another engine)."""
    if not isinstance(con, duckdb.DuckDBPyConnection):
        return False
    try:
        (row,) = records(con, "rollup_ready")
    except duckdb.CatalogException:  # a database that no publish of ours wrote
        return False
    return bool(row["ready"])


def window(start: datetime, end: datetime, prefix: str = "") -> dict[str, Any]:
    """Parameters for the UTC window [start, end) (naive UTC): its whole days
    [day_from, day_to) from the rollups, and raw edges [start, a_end) and [b_start, end)."""
    day_from = start.date() if start.time() == time(0) else start.date() + timedelta(days=1)
    day_to = end.date()
    if day_from >= day_to:  # no whole day inside: the window is one raw edge
        day_from = day_to = date.min
        a_end = b_start = end
    else:
        a_end = datetime.combine(day_from, time(0))
        b_start = datetime.combine(day_to, time(0))
    values = {"start": start, "end": end, "day_from": day_from, "day_to": day_to,
              "a_end": a_end, "b_start": b_start}
    return {f"{prefix}{k}": v for k, v in values.items()}
