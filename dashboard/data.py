"""The app's only door to the data: one read-only connection, cached results.

The connection is cached per data version (the database file's inode and mtime), so
a load that publishes a new file is seen on the next rerun without a restart, and
every query result is cached by its parameters and that version, with a TTL.

With `[engine] lake` set the app reads the lake instead (DuckDB's views over it, or Spark
with `[engine] name = "spark"`), and the version is the lake manifest's export instant.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import streamlit as st

import queries
from core import settings
from loaders import lake as lakes
from loaders.publish import connect_read_only, data_version
from queries import Connection

CACHE_TTL_SECONDS = 600


@st.cache_resource(max_entries=2, show_spinner=False)
def _connection(path: str, version: tuple[int, int]) -> duckdb.DuckDBPyConnection:
    return connect_read_only(Path(path))


@st.cache_resource(max_entries=2, show_spinner=False)
def _lake_connection(engine: str, lake: str, master: str, version: str) -> Connection:
    from queries import engine as engines

    return engines.connect(lake, engine, master)


def current_version() -> tuple[Any, ...] | None:
    """The version of the published database (or lake), or None when there is none yet."""
    configured = settings.engine()
    if configured.lake:
        version = lakes.version(configured.lake)
        return None if version is None else (configured.name, configured.lake, version)
    return data_version(settings.db_path())


def _results_version() -> tuple[object, ...]:
    """What a cached result depends on besides its parameters: the data and the policy file.

    Figures such as users at target read the current policy by path, so an edited policy
    file must not be answered from the cache.
    """
    return (current_version(), data_version(settings.policy_path()))


def connection() -> Connection:
    """The read-only connection to the current version of the database (or lake)."""
    version = current_version()
    configured = settings.engine()
    if configured.lake:
        if version is None:
            raise FileNotFoundError(f"no lake at {configured.lake}: write one with "
                                    "`python -m loaders export --db PATH --lake ...`")
        return _lake_connection(configured.name, configured.lake, configured.spark_master,
                                str(version[2]))
    if version is None:
        raise FileNotFoundError(
            f"no database at {settings.db_path()}: run `make run` or `python -m loaders demo`")
    return _connection(str(settings.db_path()), version)


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False, max_entries=512)
def _cached_query(name: str, version: tuple[object, ...], params: tuple[tuple[str, Any], ...]
                  ) -> pd.DataFrame:
    return queries.run(connection(), name, **dict(params))


def query(name: str, **params: Any) -> pd.DataFrame:
    """Run `queries/<name>.sql` with bound parameters, cached until the data changes."""
    return _cached_query(name, _results_version(), tuple(sorted(params.items())))


_REGISTRY: dict[str, Callable[..., Any]] = {}


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False, max_entries=512)
def _cached_call(key: str, version: tuple[object, ...], params: tuple[tuple[str, Any], ...]) -> Any:
    return _REGISTRY[key](connection(), **dict(params))


def cached(func: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a query-layer function `func(con, **params)` so the app caches its result.

    The result is kept per parameters and data version, so a new load is seen at once.
    Results must be materialised (DataFrames, dicts), never a live DuckDB relation.
    """
    key = f"{func.__module__}.{func.__qualname__}"
    _REGISTRY[key] = func

    @functools.wraps(func)
    def wrapper(**params: Any) -> Any:
        return _cached_call(key, _results_version(), tuple(sorted(params.items())))

    return wrapper
