"""Which policy the chatbot's runtime had in force, and when: read from the decisions it
recorded (`cost_events.policy_id`, `<name>@<12 hex>` of the policy's content).

The database keeps only the id; `find_policy_file` finds the TOML that has it among the
files the dashboard knows, so the What-if page can start from the policy in force.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd

from enforcement.policy import PolicyError, load_policy, policy_id
from queries import run

COLUMNS = ["policy_id", "policy_name", "first_decision", "last_decision", "requests", "served"]
ALL_TIME = (datetime(1900, 1, 1), datetime(9999, 1, 1))


def has_runtime_columns(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether this database was loaded by a version that knows the runtime's columns."""
    return int(run(con, "runtime_columns").iloc[0]["n"]) == 2


def in_force(con: duckdb.DuckDBPyConnection, *, start: datetime = ALL_TIME[0],
             end: datetime = ALL_TIME[1]) -> pd.DataFrame:
    """One row per policy that decided requests in [start, end) (naive UTC), earliest first;
    empty where the runtime wrote nothing."""
    if not has_runtime_columns(con):
        return pd.DataFrame(columns=COLUMNS)
    return run(con, "policies_in_force", start=start, end=end)


def latest_policy_id(con: duckdb.DuckDBPyConnection) -> str | None:
    """The policy that made the newest recorded decision, or None."""
    df = in_force(con)
    return None if df.empty else str(df.sort_values("last_decision").iloc[-1]["policy_id"])


def find_policy_file(wanted: str, candidates: Iterable[Path]) -> Path | None:
    """The first policy file whose content has the id `wanted` (unreadable files skipped)."""
    for path in candidates:
        try:
            if Path(path).is_file() and policy_id(load_policy(path)) == wanted:
                return Path(path)
        except (PolicyError, OSError, ValueError):
            continue
    return None
