"""The query layer: every figure is defined once, in a `.sql` file beside this module.

`run(con, "daily_kpis", start=..., end=...)` finds `queries/daily_kpis.sql`, binds the
parameters by name (`$start`), runs it on its own cursor and returns a DataFrame.
Nothing here knows which source a row came from, or about Streamlit.

The same call runs on another engine: anything with `run_query(name, params)` (such as
`queries.engine.SparkEngine`, the files transpiled to Spark SQL) is used in its place, so
`kpis()`, the weekly figures and the replay's history read take either.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import duckdb
import pandas as pd

SQL_DIR = Path(__file__).resolve().parent


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


def run(con: Connection, name: str, **params: Any) -> pd.DataFrame:
    """Run a named query with bound parameters on a fresh cursor; materialised."""
    if isinstance(con, QueryEngine):
        return con.run_query(name, params)
    cur = con.cursor()
    try:
        text = sql_text(name)
        used = {k: v for k, v in params.items() if f"${k}" in text}
        return cur.execute(text, used).df()
    finally:
        cur.close()
