"""Whom to act on today: the "action needed" list of the landing and Users pages.

- users over the policy's cutoff month to date with no revenue (the rules' own test: cost
  strictly over the cutoff, revenue <= 0), most cost first;
- users below the profit target with the most cost month to date (the top `TOP_BELOW`);
- users whose month-to-date request count is far above everyone else's, the guide's usage
  pattern analysis: more than `RATE_FACTOR` times the median of the month's users and at
  least `RATE_MIN_REQUESTS` requests;
- sources whose newest load failed, or whose newest successful load is older than
  `stale_hours`.
Plain Python over the query layer; a page renders the frame.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd

from core import formats
from enforcement.policy import Policy
from queries import kpis as K
from queries import run
from queries.ranking import most

TOP_BELOW = 10
RATE_FACTOR = 10
RATE_MIN_REQUESTS = 50
STALE_HOURS = 6
COLUMNS = ["kind", "user_id", "detail", "cost_usd", "revenue_usd", "requests", "level"]
OVER_CUTOFF, BELOW_TARGET, HIGH_RATE = "over cutoff, unpaid", "below target", "unusual usage"
LOAD_FAILED, LOAD_STALE = "load failed", "load stale"


def _user_rows(df: pd.DataFrame, kind: str, detail: str) -> list[dict]:
    return [{"kind": kind, "user_id": r.user_id, "detail": detail,
             "cost_usd": K.usd(r.cost_micro), "revenue_usd": K.usd(r.revenue_micro),
             "requests": int(r.requests), "level": r.level} for r in df.itertuples()]


def action_needed(con: duckdb.DuckDBPyConnection, day: str, tz: str, policy: Policy | str | Path,
                  *, now: datetime | None = None, stale_hours: int = STALE_HOURS
                  ) -> pd.DataFrame:
    """The list, month to date at the end of local day `day`; `now` (naive UTC) judges
    staleness (default: the wall clock)."""
    pol = K.resolve_policy(policy)
    mtd = K.mtd_users(con, "day", day, tz, pol)
    rows: list[dict] = []
    over_mask = (mtd["cost_micro"] > pol.cutoff) & (mtd["revenue_micro"] <= 0)
    over = most(mtd[over_mask], "cost_micro")
    cutoff = formats.money(K.usd(pol.cutoff))
    rows += _user_rows(over, OVER_CUTOFF, f"cost over the {cutoff} cutoff, no payment this month")
    below = most(mtd[~mtd["at_target"] & ~over_mask], "cost_micro", TOP_BELOW)
    rows += _user_rows(below, BELOW_TARGET, "below the profit target, among the most cost")
    if len(mtd):
        median = float(mtd["requests"].median())
        bar = max(RATE_MIN_REQUESTS, RATE_FACTOR * median)
        busy = mtd[mtd["requests"] > bar].sort_values(["requests", "user_id"],
                                                      ascending=[False, True])
        rows += _user_rows(busy, HIGH_RATE, f"over {RATE_FACTOR}× the median of "
                                            f"{median:g} requests this month")
    now = now or datetime.utcnow()  # noqa: DTZ003 - stored instants are naive UTC
    for load in run(con, "latest_loads").itertuples():
        if load.status != "ok":
            rows.append({"kind": LOAD_FAILED, "user_id": None,
                         "detail": f"{load.source}: {load.error or 'failed'}"})
        elif pd.notna(load.last_ok) and now - load.last_ok > timedelta(hours=stale_hours):
            rows.append({"kind": LOAD_STALE, "user_id": None,
                         "detail": f"{load.source}: last loaded {load.last_ok:%Y-%m-%d %H:%M} "
                                   f"UTC, over {stale_hours} h ago"})
    return pd.DataFrame(rows, columns=COLUMNS)
