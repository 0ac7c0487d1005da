"""The Weekly page's own figures: the user-level profit table, streams, cost drivers, and
intervention effectiveness, for one ISO week in the reporting timezone.

The spec's KPIs (cost, revenue, users at target, ...) are not re-defined here: they come
from `queries.kpis`. What is here is only what the Weekly page and the weekly report show
beside them. Every function takes the connection first and keyword parameters, so the app
wraps it with `dashboard.data.cached` and the report command calls it as is.
Money is integer micro-dollars throughout (`*_micro` columns).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import duckdb
import pandas as pd

from enforcement.level_arrays import level_names
from enforcement.levels import LEVELS
from enforcement.policy import Policy
from queries import kpis, rollups, run, run_per_user
from queries.ranking import most

PAYMENT_WINDOW_DAYS = 7
THRESHOLDS = ("warning", "cutoff")
EITHER = "warning or cutoff"


def parse_week(text: str) -> str:
    """The canonical name of an ISO week written `2026-W11`; ValueError for anything else."""
    return kpis.make_period("week", text).name


def week_label(day: date) -> str:
    """The ISO week holding `day`, as `2026-W11`."""
    return kpis.period_name("week", day)


def last_complete_week(today: date) -> str:
    """The ISO week before the one holding `today` (the cron job's default)."""
    return week_label(today - timedelta(days=7))


@dataclass(frozen=True)
class WeekBounds:
    """Half-open naive-UTC bounds of an ISO week, the week before, and its month to date.

    Taken from the KPI layer's periods, so the page's tables cut the week exactly where
    its KPIs do (each bound a local midnight: a DST week is 167 or 169 hours).
    """

    period: kpis.Period
    start: datetime       # Monday 00:00 local
    end: datetime         # next Monday 00:00 local
    prev_start: datetime  # the Monday before, 00:00 local
    mtd_start: datetime   # 1st of the month holding the week's Sunday (month to date at its end)
    scan_start: datetime  # 1st of the month holding the Monday (where month sums start)

    @property
    def week(self) -> str:
        return self.period.name

    @property
    def previous(self) -> str:
        return kpis.previous_period("week", self.period.name)

    def params(self) -> dict[str, datetime]:
        return {"start": self.start, "end": self.end, "prev_start": self.prev_start,
                "mtd_start": self.mtd_start, "scan_start": self.scan_start}


def week_bounds(week: str, tz: str) -> WeekBounds:
    """Bounds of `week` in `tz`; ValueError for a malformed week or timezone."""
    kpis.zone(tz)
    p = kpis.make_period("week", week, tz)
    start, end = p.utc()
    prev = kpis.make_period("week", kpis.previous_period("week", p.name), tz)
    return WeekBounds(
        period=p, start=start, end=end, prev_start=prev.utc()[0],
        mtd_start=kpis.to_utc(kpis.mtd_bounds(p)[0]),
        scan_start=kpis.to_utc(kpis.local_midnight(p.first_day.replace(day=1), tz)))


# -- the weeks there are ------------------------------------------------------------------

def weeks_with_data(con: duckdb.DuckDBPyConnection, *, tz: str) -> list[str]:
    """Every ISO week from the first local day with data to the last, newest first."""
    span = kpis.data_span(con, tz)
    if span is None:
        return []
    day, end = span
    day -= timedelta(days=day.weekday())
    weeks = []
    while day <= end:
        weeks.append(week_label(day))
        day += timedelta(days=7)
    return weeks[::-1]


def default_week(con: duckdb.DuckDBPyConnection, *, tz: str) -> str | None:
    """The newest week that the data covers to its Sunday, else the newest with any data.

    A page opened on a half-loaded week would show a month to date that has barely begun.
    """
    span = kpis.data_span(con, tz)
    if span is None:
        return None
    last_day = span[1]
    return week_label(last_day if last_day.weekday() == 6 else last_day - timedelta(days=7)) \
        if last_day - timedelta(days=6) >= span[0] else week_label(last_day)


# -- the user-level profit table ----------------------------------------------------------

def user_table(con: duckdb.DuckDBPyConnection, *, week: str, tz: str, policy: Policy
               ) -> pd.DataFrame:
    """One row per user with a counted cost or a revenue event in the week.

    Week figures (requests, cost, revenue, profit, payments, partners) and month to date at
    the week's end (cost, revenue, profit, `level` by the shared `level_of` over the whole column
    (`level_arrays.level_names`), `at_target`:
    profit at least the policy's target), and the last token balance before the week's end.
    Sorted by week profit, lowest first: the users who lose money lead.
    """
    bounds = week_bounds(week, tz)
    # in UTC the rollup twin: 4.2 s → 1.8 s at 1,000,000 users
    df = run_per_user(con, rollups.utc_twin(con, "weekly_users", tz), **bounds.params())
    df["level"] = level_names(df["mtd_cost_micro"].to_numpy(), df["mtd_revenue_micro"].to_numpy(),
                              policy).tolist()  # level_of over the column (one numpy pass)
    df["at_target"] = df["mtd_profit_micro"] >= policy.target
    df["token_balance"] = df["token_balance"].astype("Int64")
    return df


def top_users_by_cost(table: pd.DataFrame, n: int = 10) -> pd.DataFrame:
    """The `n` users with the highest week cost (ties by user id), from `user_table`."""
    return most(table[table["cost_micro"] > 0], "cost_micro", n).reset_index(drop=True)


def level_counts(table: pd.DataFrame) -> dict[str, int]:
    """Users of the table per level (all five levels as keys, in their order)."""
    counts = table["level"].value_counts()
    return {level.value: int(counts.get(level.value, 0)) for level in LEVELS}


# -- streams and cost drivers -------------------------------------------------------------

def stream_performance(con: duckdb.DuckDBPyConnection, *, week: str, tz: str) -> pd.DataFrame:
    """Each of the five streams this week and the week before (revenue, payers, refunds)."""
    df = run(con, "weekly_streams", **week_bounds(week, tz).params())
    df["change_micro"] = df["revenue_micro"] - df["prev_revenue_micro"]
    return df


def partner_performance(con: duckdb.DuckDBPyConnection, *, week: str, tz: str) -> pd.DataFrame:
    """Revenue per stream and partner this week and the week before."""
    return run(con, "weekly_partners", **week_bounds(week, tz).params())


def cost_by_action(con: duckdb.DuckDBPyConnection, *, week: str, tz: str) -> pd.DataFrame:
    """Counted cost per action this week and the week before, largest first, with its share.

    In UTC from the rollups (1.6 s → 0.2 s at 1,000,000 users), unless an action has no bit
    there for its users (past the 63rd action): then from the raw lines."""
    params = week_bounds(week, tz).params()
    df = run(con, rollups.utc_twin(con, "weekly_cost_actions", tz), **params)
    if df["users"].isna().any():
        df = run(con, "weekly_cost_actions", **params)
    df["change_micro"] = df["cost_micro"] - df["prev_cost_micro"]
    total = int(df["cost_micro"].sum())
    df["share_pct"] = [round(100 * int(c) / total, 2) if total else None
                       for c in df["cost_micro"]]
    return df


# -- intervention effectiveness -----------------------------------------------------------

def intervention_detail(con: duckdb.DuckDBPyConnection, *, week: str, tz: str, policy: Policy
                        ) -> pd.DataFrame:
    """One row per (threshold, user) crossing in the week; see weekly_interventions.sql
    (its rollup twin in UTC, where a week is whole rollup days: 8.7 s → 2.1 s at 1,000,000
    users)."""
    return run_per_user(con, rollups.utc_twin(con, "weekly_interventions", tz),
                        **week_bounds(week, tz).params(), warning_micro=policy.warning,
                        cutoff_micro=policy.cutoff)


def intervention_summary(detail: pd.DataFrame, policy: Policy) -> pd.DataFrame:
    """Per threshold, and for either: crossed, paid within 7 days, how much, windows open.

    "Either" counts each user once, at their first crossing in the week (the warning's
    when both fall in it), so it is not the sum of the two rows.
    """
    either = (detail.sort_values(["crossed_at", "threshold"], ascending=[True, False])
              .drop_duplicates("user_id"))
    rows = []
    for name, limit, part in (("warning", policy.warning, detail[detail["threshold"] == "warning"]),
                              ("cutoff", policy.cutoff, detail[detail["threshold"] == "cutoff"]),
                              (EITHER, None, either)):
        crossed = len(part)
        paid = int(part["paid"].sum())
        rows.append({
            "threshold": name,
            "threshold_micro": limit,
            "crossed": crossed,
            "paid": paid,
            "paid_pct": round(100 * paid / crossed, 2) if crossed else None,
            "paid_micro": int(part.loc[part["paid"].astype(bool), "paid_micro"].sum()),
            "window_open": int((~part["window_complete"].astype(bool)).sum()),
        })
    out = pd.DataFrame(rows)
    out["threshold_micro"] = out["threshold_micro"].astype("Int64")
    return out
