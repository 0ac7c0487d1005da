"""The query layer: every figure is defined once, in a `.sql` file beside this module.

`run(con, "daily_kpis", start=..., end=...)` finds `queries/daily_kpis.sql`, binds the
parameters by name (`$start`), runs it on its own cursor and returns a DataFrame.
Nothing here knows which source a row came from, or about Streamlit.

The same call runs on another engine: anything with `run_query(name, params)` (such as
`queries.engine.SparkEngine`, the files transpiled to Spark SQL) is used in its place, so
`kpis()`, the weekly figures and the replay's history read take either.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

import duckdb

if TYPE_CHECKING:  # pandas is imported by DuckDB when a frame is asked for, not before:
    import numpy as np  # a command that needs none (`queries kpis`) starts 0.4 s sooner;
    import pandas as pd  # numpy only where columns are asked for

SQL_DIR = Path(__file__).resolve().parent
# Run only on DuckDB, so never transpiled: the replay's one-read history (only
# `history.read_sorted`, on a DuckDB connection, runs it; it names DuckDB's NOT
# MATERIALIZED) and the rollups' readers (only a DuckDB file our publish wrote has them;
# a lake and Spark read the raw lines' twins).
DUCKDB_ONLY_QUERIES = frozenset({"replay_events", "replay_events_unrecorded", "rollup_ready"})


def duckdb_only(name: str) -> bool:
    """True for the queries another engine never runs (`DUCKDB_ONLY_QUERIES`, `*_rollup`)."""
    return name in DUCKDB_ONLY_QUERIES or name.endswith("_rollup")


@lru_cache(maxsize=128)
def sql_text(name: str) -> str:
    """The text of `queries/<name>.sql` (names are fixed in code, never user input)."""
    path = SQL_DIR / f"{name}.sql"
    if not path.is_file():
        raise KeyError(f"no query named {name!r} in {SQL_DIR}")
    return path.read_text()


@runtime_checkable
class QueryEngine(Protocol):
    """Another engine for the same files (Spark): runs a named query, returns a DataFrame."""

    def run_query(self, name: str, params: dict[str, Any]) -> pd.DataFrame: ...


Connection = duckdb.DuckDBPyConnection | QueryEngine
T = TypeVar("T")
# The threads `concurrently` runs reads on. DuckDB releases the GIL while a query runs, and
# a small query leaves a core idle while it plans and between its pipelines: a month's
# figures at 100,000 users, six reads, 45 ms one after another, 28-32 ms at once.
_READERS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="queries")


def concurrently(con: Connection, reads: Mapping[str, Callable[[Connection], T]]
                 ) -> dict[str, T]:
    """Each independent read called with a cursor of its own, all at once; their results
    by name. Another engine (Spark) is called one read after another, with `con` itself."""
    if isinstance(con, QueryEngine):
        return {name: read(con) for name, read in reads.items()}

    def on(cur: duckdb.DuckDBPyConnection, read: Callable[[Connection], T]) -> T:
        try:
            return read(cur)
        finally:
            cur.close()

    # (the cursors are made here, on the caller's thread: the connection is not shared)
    futures = {name: _READERS.submit(on, con.cursor(), read) for name, read in reads.items()}
    return {name: future.result() for name, future in futures.items()}


def _execute(cur: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any]
             ) -> duckdb.DuckDBPyConnection:
    text = sql_text(name)
    return cur.execute(text, {k: v for k, v in params.items() if f"${k}" in text})


def run(con: Connection, name: str, **params: Any) -> pd.DataFrame:
    """Run a named query with bound parameters on a fresh cursor; materialised."""
    if isinstance(con, QueryEngine):
        return con.run_query(name, params)
    cur = con.cursor()
    try:
        return _execute(cur, name, params).df()
    finally:
        cur.close()


def _as_duckdb_frame(table: Any) -> pd.DataFrame:
    """An Arrow table as DuckDB's `.df()` makes it: an integer column with NULLs becomes
    pandas' nullable integer of its width (Arrow alone makes it float)."""
    import pandas as pd
    import pyarrow as pa

    frame = table.to_pandas()
    for field in table.schema:
        column = table.column(field.name)
        if pa.types.is_integer(field.type) and column.null_count:
            dtype = pd.api.types.pandas_dtype(NULLABLE_INTEGERS[str(field.type)])
            frame[field.name] = column.to_pandas(types_mapper={field.type: dtype}.get)
    return frame


NULLABLE_INTEGERS = {f"{s}int{n}": f"{'U' if s else ''}Int{n}" for s in ("", "u")
                     for n in (8, 16, 32, 64)}


def run_per_user(con: Connection, name: str, **params: Any) -> pd.DataFrame:
    """`run` for a query with a row per user (strings, integers, timestamps; no dates, no
    column of NULLs only): the same frame, through Arrow, where DuckDB's `.df()` is slow
    on strings. Held equal to `run` by tests/test_queries_run.py."""
    if isinstance(con, QueryEngine):
        return con.run_query(name, params)
    cur = con.cursor()
    try:
        text = sql_text(name)
        relation = cur.sql(text, params={k: v for k, v in params.items() if f"${k}" in text})
        return _as_duckdb_frame(relation.to_arrow_table())
    finally:
        cur.close()


def records(con: Connection, name: str, *, prelude: str | None = None, **params: Any
            ) -> list[dict[str, Any]]:
    """A named query's rows as dicts of plain Python values (NULL is None), no DataFrame:
    for the small results of the KPI layer. `prelude` (DuckDB only) runs first on the same
    cursor: a temporary macro the query calls."""
    if isinstance(con, QueryEngine):
        frame = con.run_query(name, params)
        return frame.astype(object).where(frame.notna(), None).to_dict("records")
    cur = con.cursor()
    try:
        if prelude:
            cur.execute(prelude)
        result = _execute(cur, name, params)
        names = [d[0] for d in result.description]
        return [dict(zip(names, row, strict=True)) for row in result.fetchall()]
    finally:
        cur.close()


def arrays(con: Connection, name: str, **params: Any) -> dict[str, np.ndarray]:
    """A named query's columns as numpy arrays (integer columns without NULLs stay int64):
    per-user columns for a million users without a Python object per value."""
    import numpy as np

    if isinstance(con, QueryEngine):
        frame = con.run_query(name, params)
        return {c: frame[c].to_numpy() for c in frame.columns}
    cur = con.cursor()
    try:
        return {k: np.asarray(v) for k, v in _execute(cur, name, params).fetchnumpy().items()}
    finally:
        cur.close()
