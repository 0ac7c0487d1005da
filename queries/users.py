"""The Users page's figures: find a user by the last digits of the phone, then their month.

The month-to-date series fold the user's events in time order and call the shared
`level_of` after each, so the level shown is the one the rules would give at that moment.
Money is integer micro-dollars (`*_micro` columns).
"""

from __future__ import annotations

from datetime import datetime

import duckdb
import pandas as pd

from core import audit
from enforcement.decide import level_of
from enforcement.policy import Policy
from queries import run
from queries.kpis import make_period

MAX_RESULTS = 50


def digits_only(text: str) -> str:
    """What the search binds: the digits typed, nothing else (`…0001` -> `0001`)."""
    return "".join(ch for ch in str(text or "") if ch.isdigit())


def search(con: duckdb.DuckDBPyConnection, *, digits: str, tz: str, limit: int = MAX_RESULTS
           ) -> pd.DataFrame:
    """Users whose phone ends with `digits` (at least 2 digits, else none), latest first."""
    digits = digits_only(digits)
    if len(digits) < 2:
        return pd.DataFrame(columns=["user_id", "first_seen", "last_seen"])
    return run(con, "user_search", digits=digits, tz=tz, limit=int(limit))


def by_ref(con: duckdb.DuckDBPyConnection, *, ref: str, tz: str) -> pd.DataFrame:
    """The user a link's keyed reference names (core.audit.user_ref), as `search` returns
    users; empty when none matches. Links carry the reference, never the phone."""
    found = audit.find_ref(str(ref), run(con, "user_ids")["user_id"])
    if found is None:
        return pd.DataFrame(columns=["user_id", "first_seen", "last_seen"])
    return run(con, "user_search", digits=digits_only(found), tz=tz, limit=MAX_RESULTS).query(
        "user_id == @found")


def months_of(con: duckdb.DuckDBPyConnection, *, user: str, tz: str) -> list[str]:
    """The months (`YYYY-MM`, reporting timezone) with an event of this user, newest first."""
    return run(con, "user_months", user=user, tz=tz)["month"].tolist()


def month_bounds(month: str, tz: str) -> tuple[datetime, datetime]:
    """Half-open naive-UTC bounds of a calendar month `YYYY-MM` in `tz` (the KPI layer's)."""
    return make_period("month", month, tz).utc()


def month_events(con: duckdb.DuckDBPyConnection, *, user: str, month: str, tz: str,
                 policy: Policy) -> pd.DataFrame:
    """The user's events in the month with the month-to-date position after each.

    `mtd_cost_micro` sums counted cost only (an estimate replaced by its actual is shown
    but not added); `mtd_revenue_micro` every stream, refunds included; `level` is
    `level_of` of the two after the event. Revenue comes before cost at the same instant.
    """
    start, end = month_bounds(month, tz)
    df = run(con, "user_events", user=user, start=start, end=end, tz=tz)
    counted_cost = df["cost_micro"].where(df["counted"].astype(bool), 0)
    df["mtd_cost_micro"] = counted_cost.cumsum().astype("int64")
    df["mtd_revenue_micro"] = df["revenue_micro"].cumsum().astype("int64")
    df["mtd_profit_micro"] = df["mtd_revenue_micro"] - df["mtd_cost_micro"]
    df["level"] = [level_of(int(c), int(r), policy).value
                   for c, r in zip(df["mtd_cost_micro"], df["mtd_revenue_micro"], strict=True)]
    return df


def token_balances(con: duckdb.DuckDBPyConnection, *, user: str, tz: str) -> pd.DataFrame:
    """The user's token balance snapshots, oldest first."""
    return run(con, "user_token_balances", user=user, tz=tz)
