"""The query layer: every figure is defined once, in a `.sql` file beside this module.

`run(con, "daily_kpis", start=..., end=...)` finds `queries/daily_kpis.sql`, binds the
parameters by name (`$start`), runs it on its own cursor and returns a DataFrame.
Nothing here knows which source a row came from, or about Streamlit.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

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


def run(con: duckdb.DuckDBPyConnection, name: str, **params: Any) -> pd.DataFrame:
    """Run a named query with bound parameters on a fresh cursor; materialised."""
    cur = con.cursor()
    try:
        text = sql_text(name)
        used = {k: v for k, v in params.items() if f"${k}" in text}
        return cur.execute(text, used).df()
    finally:
        cur.close()
