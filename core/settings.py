"""Where the app and every command find the database, timezone and policy.

One lookup order everywhere: environment variable, then `.streamlit/secrets.toml`,
then the default. Plain Python (no Streamlit) so commands and tests share it.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

ROOT = Path(__file__).resolve().parent.parent
SECRETS_PATH = ROOT / ".streamlit" / "secrets.toml"
DEFAULT_DB = ROOT / "data" / "profit.duckdb"
DEFAULT_POLICY = ROOT / "enforcement" / "policies" / "seed-default.toml"


@lru_cache(maxsize=4)
def _secrets(path: str) -> dict[str, Any]:
    p = Path(path)
    if not p.exists():
        return {}
    with p.open("rb") as fh:
        return tomllib.load(fh)


def secrets(path: Path | None = None) -> dict[str, Any]:
    """The parsed secrets file (empty when absent). Never logged or printed."""
    target = Path(os.environ.get("PROFIT_SECRETS", path or SECRETS_PATH))
    return _secrets(str(target))


def _setting(env: str, section: str, key: str, default: str) -> str:
    value = os.environ.get(env)
    if value:
        return value
    value = secrets().get(section, {}).get(key)
    return str(value) if value else default


def db_path() -> Path:
    """`PROFIT_DB`, else `[database] path` in the secrets, else data/profit.duckdb."""
    path = Path(_setting("PROFIT_DB", "database", "path", str(DEFAULT_DB)))
    return path if path.is_absolute() else ROOT / path


def timezone() -> str:
    """The reporting timezone: `PROFIT_TIMEZONE`, else `[reporting] timezone`, else UTC."""
    name = _setting("PROFIT_TIMEZONE", "reporting", "timezone", "UTC")
    check_timezone(name)
    return name


def policy_path() -> Path:
    """The current enforcement policy: `PROFIT_POLICY`, `[policy] path`, else the seed's."""
    path = Path(_setting("PROFIT_POLICY", "policy", "path", str(DEFAULT_POLICY)))
    return path if path.is_absolute() else ROOT / path


def check_timezone(name: str) -> str:
    """Refuse a name that is not an IANA timezone, with a message that says so."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        msg = f"unknown timezone {name!r}: use an IANA name such as Europe/Paris"
        raise ValueError(msg) from exc
    return name


EARLIEST_INSTANT = "2000-01-01"
LATEST_INSTANT = "2100-01-01"


def instant_range() -> tuple[datetime, datetime]:
    """The instants a load accepts, `earliest <= ts < latest` (UTC).

    No real event is older than the service or centuries ahead; `infinity` or year 12000
    would load and then break every page. `PROFIT_EARLIEST`/`PROFIT_LATEST`, else
    `[loading] earliest`/`latest`, else 2000-01-01 and 2100-01-01.
    """
    bounds = []
    for env, key, default in (("PROFIT_EARLIEST", "earliest", EARLIEST_INSTANT),
                              ("PROFIT_LATEST", "latest", LATEST_INSTANT)):
        text = _setting(env, "loading", key, default)
        try:
            bounds.append(datetime.fromisoformat(text).replace(tzinfo=None))
        except ValueError as exc:
            raise ValueError(f"[loading] {key} is not a date: {text!r}") from exc
    earliest, latest = bounds
    if not earliest < latest:
        raise ValueError(f"[loading] earliest ({earliest}) must be before latest ({latest})")
    return earliest, latest


ENGINES = ("duckdb", "spark")
DEFAULT_SPARK_MASTER = "local[*]"


@dataclass(frozen=True)
class EngineSettings:
    """Where the queries run: `duckdb` on the database, or on a lake (`lake` set), or
    `spark` on a lake, with the Spark master (`local[*]`, `spark://…`, `sc://…`)."""

    name: str = "duckdb"
    lake: str | None = None
    spark_master: str = DEFAULT_SPARK_MASTER


def engine() -> EngineSettings:
    """`PROFIT_ENGINE`/`PROFIT_LAKE`/`PROFIT_SPARK_MASTER`, else `[engine] name`, `lake`,
    `spark_master`, else DuckDB on the database. Spark without a lake is refused."""
    name = _setting("PROFIT_ENGINE", "engine", "name", "duckdb")
    if name not in ENGINES:
        raise ValueError(f"[engine] name must be one of {', '.join(ENGINES)}, got {name!r}")
    lake = _setting("PROFIT_LAKE", "engine", "lake", "") or None
    if lake and "://" not in lake and not Path(lake).is_absolute():
        lake = str(ROOT / lake)
    if name == "spark" and not lake:
        raise ValueError("[engine] name = \"spark\" needs [engine] lake (a directory or s3:// URL)")
    master = _setting("PROFIT_SPARK_MASTER", "engine", "spark_master", DEFAULT_SPARK_MASTER)
    return EngineSettings(name, lake, master)
