"""Every figure of ../shared/spec/kpis.md, per day, ISO week or month, in a reporting timezone.

Pages, exports and the command line take their numbers from here and nowhere else. The SQL
files beside this module do the heavy lifting and return money as integer micro-dollars
(a DataFrame would turn DECIMAL into float); this module turns them into exact Decimals,
computes the ratios from exact counts, and asks `enforcement.level_of` for each user's level.

Periods are converted to UTC bounds here (zoneinfo), and the SQL filters the stored UTC
`ts` on them; series that group by local day convert in DuckDB with
`timezone($tz, ts AT TIME ZONE 'UTC')`. Tests pin that both agree at a day boundary.
"""

from __future__ import annotations

import json
import math
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from core.periods import (  # noqa: F401 - re-exported: callers import them from here
    GRAINS,
    Period,
    local_midnight,
    make_period,
    mtd_bounds,
    parse_period,
    period_bounds,
    period_name,
    previous_period,
    shift_period,
    to_utc,
    zone,
)
from enforcement.decide import level_of
from enforcement.levels import LEVELS
from enforcement.money import MICRO, fmt_usd, to_micro
from enforcement.policy import Policy, load_policy
from queries import run

STREAMS = ("tokens", "premium", "affiliate", "data", "other")
MICRO_STEP = Decimal("0.000001")

# Every key of kpis() in the spec's order: what the JSON always holds.
KPI_NAMES = (
    "active_users", "new_users", "cost_usd", "revenue_usd", "revenue_by_stream", "profit_usd",
    "margin_pct", "cost_per_user", "revenue_per_user", "profit_per_user", "paying_users",
    "payment_conversion_pct", "token_buyers", "token_purchase_rate_pct", "users_at_target",
    "users_at_target_pct", "users_by_level", "cost_by_action", "cost_by_category",
    "retention_pct",
)

# -- money and ratios ----------------------------------------------------------------------

def usd(micro: int) -> Decimal:
    """Integer micro-dollars as an exact Decimal with six places."""
    return Decimal(int(micro)).scaleb(-6).quantize(MICRO_STEP)


def per_user(total_micro: int, users: int) -> Decimal | None:
    """A sum per user, rounded half up to the micro-dollar (the only rounding in money)."""
    if users <= 0:
        return None
    return (Decimal(int(total_micro)) / users / MICRO).quantize(MICRO_STEP, ROUND_HALF_UP)


def ratio_pct(part: int | Decimal, whole: int | Decimal) -> float | None:
    """100 * part / whole from exact numbers, as a float only at the end; None if whole <= 0."""
    if whole <= 0:
        return None
    return float(Decimal(100) * Decimal(part) / Decimal(whole))


def resolve_policy(policy: Policy | str | Path | None) -> Policy:
    """A Policy, a policy file, or None for the current one (settings: `PROFIT_POLICY`...)."""
    if isinstance(policy, Policy):
        return policy
    if policy is None:
        from core import settings  # plain Python: the one lookup of the policy path
        policy = settings.policy_path()
    return load_policy(policy)


# -- the KPIs ----------------------------------------------------------------------------

def user_totals(con: duckdb.DuckDBPyConnection, start: datetime, end: datetime) -> pd.DataFrame:
    """Per user with a counted cost in [start, end) (aware bounds): cost/revenue micro, requests."""
    return run(con, "user_totals", start=to_utc(start), end=to_utc(end))


def mtd_users(con: duckdb.DuckDBPyConnection, grain: str, period: str, tz: str = "UTC",
              policy: Policy | str | Path | None = None) -> pd.DataFrame:
    """Month-to-date position of every user in the base of users_at_target, with its level.

    Columns: user_id, cost_micro, revenue_micro, profit_micro, requests, at_target, level.
    The level is `enforcement.level_of` called per user (in Python), so the dashboard can
    never disagree with the rules.
    """
    pol = resolve_policy(policy)
    start, end = mtd_bounds(make_period(grain, period, tz))
    df = user_totals(con, start, end)
    df["profit_micro"] = df["revenue_micro"] - df["cost_micro"]
    df["at_target"] = df["profit_micro"] >= pol.target
    df["level"] = [level_of(int(c), int(r), pol).value
                   for c, r in zip(df["cost_micro"], df["revenue_micro"], strict=True)]
    return df


def kpis(con: duckdb.DuckDBPyConnection, grain: str, period: str, tz: str = "UTC",
         policy: Policy | str | Path | None = None) -> dict[str, Any]:
    """Every figure of the spec for one period; all keys always present.

    Money is Decimal (exact; per-user figures rounded half up to the micro-dollar),
    percentages float from exact counts, None where the spec says null. `retention_pct`
    is a monthly figure: None at the day and week grains. Also holds the period's
    `grain`, `period`, `label`, `timezone`, local `start`/`end` (ISO) and `mtd_users`
    (the denominator of users_at_target_pct).
    """
    zone(tz)
    pol = resolve_policy(policy)
    p = make_period(grain, period, tz)
    start, end = p.utc()
    row = run(con, "period_kpis", start=start, end=end).iloc[0]
    active = int(row["active_users"])
    cost = int(row["cost_micro"])
    revenue = int(row["revenue_micro"])
    profit = revenue - cost

    breakdown = run(con, "cost_breakdown", start=start, end=end)
    by = {dim: {str(k): usd(v) for k, v in zip(g["key"], g["cost_micro"], strict=True)}
          for dim, g in breakdown.groupby("dimension", sort=False)}

    mtd = mtd_users(con, grain, period, tz, pol)
    levels = mtd["level"].value_counts()
    at_target = int(mtd["at_target"].sum())

    retention = None
    if grain == "month":
        prev = make_period("month", previous_period("month", p.name), tz)
        r = run(con, "retention", prev_start=prev.utc()[0], start=start, end=end).iloc[0]
        retention = ratio_pct(int(r["retained"]), int(r["previous_users"]))

    out: dict[str, Any] = {
        "grain": grain,
        "period": p.name,
        "label": p.label,
        "timezone": tz,
        "start": p.start.isoformat(),
        "end": p.end.isoformat(),
        "active_users": active,
        "new_users": int(row["new_users"]),
        "cost_usd": usd(cost),
        "revenue_usd": usd(revenue),
        "revenue_by_stream": {s: usd(int(row[f"{s}_micro"])) for s in STREAMS},
        "profit_usd": usd(profit),
        "margin_pct": ratio_pct(profit, revenue),
        "cost_per_user": per_user(cost, active),
        "revenue_per_user": per_user(revenue, active),
        "profit_per_user": per_user(profit, active),
        "paying_users": int(row["paying_users"]),
        "payment_conversion_pct": ratio_pct(int(row["paying_users"]), active),
        "token_buyers": int(row["token_buyers"]),
        "token_purchase_rate_pct": ratio_pct(int(row["token_buyers"]), active),
        "users_at_target": at_target,
        "users_at_target_pct": ratio_pct(at_target, len(mtd)),
        "mtd_users": len(mtd),
        "users_by_level": {lv.value: int(levels.get(lv.value, 0)) for lv in LEVELS},
        "cost_by_action": by.get("action", {}),
        "cost_by_category": by.get("category", {}),
        "retention_pct": retention,
    }
    return out


# -- JSON ------------------------------------------------------------------------------

def _json_value(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    if isinstance(value, Decimal):
        return fmt_usd(to_micro(value))  # "1234.50": two decimals or more, exact
    if isinstance(value, bool) or value is None or isinstance(value, int | str):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 2)
    raise TypeError(f"no JSON form for {type(value).__name__}")


def to_json(figures: dict[str, Any], **dumps: Any) -> str:
    """The spec's JSON: money a string with two decimals or more, a percentage rounded to 2."""
    return json.dumps(_json_value(figures), **dumps)


# -- series for the pages ------------------------------------------------------------------

def data_span(con: duckdb.DuckDBPyConnection, tz: str = "UTC") -> tuple[date, date] | None:
    """The first and last local day with data, or None for an empty database."""
    zone(tz)
    row = run(con, "local_span", tz=tz).iloc[0]
    if pd.isna(row["first_local"]):
        return None
    return pd.Timestamp(row["first_local"]).date(), pd.Timestamp(row["last_local"]).date()


def daily_series(con: duckdb.DuckDBPyConnection, first_day: date, last_day: date,
                 tz: str = "UTC", policy: Policy | str | Path | None = None) -> pd.DataFrame:
    """One row per local day: active users, cost, revenue, profit (Decimal), cost per user,
    paying users, and users at target month to date at the end of each day (with its share).

    Each day's figures equal `kpis(con, "day", that day)`'s: the tests pin it.
    """
    zone(tz)
    pol = resolve_policy(policy)
    mtd_start = local_midnight(first_day.replace(day=1), tz)
    end = local_midnight(last_day + timedelta(days=1), tz)
    df = run(con, "daily_series", tz=tz, mtd_start=to_utc(mtd_start), end=to_utc(end),
             first_day=first_day, last_day=last_day, target_micro=pol.target)
    df["day"] = pd.to_datetime(df["day"]).dt.date
    df["profit_micro"] = df["revenue_micro"] - df["cost_micro"]
    for name in ("cost", "revenue", "profit"):
        df[f"{name}_usd"] = [usd(v) for v in df[f"{name}_micro"]]
    df["cost_per_user"] = [per_user(c, a) for c, a in
                           zip(df["cost_micro"], df["active_users"], strict=True)]
    df["users_at_target_pct"] = [ratio_pct(t, u) for t, u in
                                 zip(df["users_at_target"], df["mtd_users"], strict=True)]
    return df


def cost_per_user_alerts(series: pd.DataFrame, *, window: int = 28, factor: Decimal = Decimal(2),
                         min_history: int = 7) -> pd.DataFrame:
    """Days whose cost per active user is far above the usual.

    "Far above" = more than `factor` times the median cost per user of the `window` days
    before (days with no active user left out), once at least `min_history` such days exist.
    """
    rows = []
    history: list[Decimal] = []
    for day, cpu in zip(series["day"], series["cost_per_user"], strict=True):
        recent = history[-window:]
        if cpu is not None and len(recent) >= min_history:
            usual = sorted(recent)[len(recent) // 2] if len(recent) % 2 else \
                (sorted(recent)[len(recent) // 2 - 1] + sorted(recent)[len(recent) // 2]) / 2
            if usual > 0 and cpu > factor * usual:
                rows.append({"day": day, "cost_per_user": cpu, "usual": usual,
                             "times_usual": float(cpu / usual)})
        if cpu is not None:
            history.append(cpu)
    return pd.DataFrame(rows, columns=["day", "cost_per_user", "usual", "times_usual"])


def unpaid_over_cutoff(con: duckdb.DuckDBPyConnection, day: str, tz: str = "UTC",
                       policy: Policy | str | Path | None = None) -> pd.DataFrame:
    """Users whose month-to-date cost at the end of `day` is over the policy's cutoff
    (strictly, as the rules compare) with no positive month-to-date revenue."""
    pol = resolve_policy(policy)
    df = mtd_users(con, "day", day, tz, pol)
    out = df[(df["cost_micro"] > pol.cutoff) & (df["revenue_micro"] <= 0)].copy()
    out["cost_usd"] = [usd(v) for v in out["cost_micro"]]
    out["revenue_usd"] = [usd(v) for v in out["revenue_micro"]]
    return out.sort_values("cost_micro", ascending=False).reset_index(drop=True)


def retention_cohorts(con: duckdb.DuckDBPyConnection, month: str, tz: str = "UTC"
                      ) -> pd.DataFrame:
    """Cohort (month of first activity) x months since: users active and % of the cohort,
    for activity up to the end of `month`."""
    p = make_period("month", month, tz)
    df = run(con, "retention_cohorts", tz=tz, end=p.utc()[1])
    if df.empty:
        return pd.DataFrame(columns=["cohort", "months_since", "users", "cohort_size", "pct"])
    df["cohort"] = pd.to_datetime(df["cohort"]).dt.strftime("%Y-%m")
    size = df[df["months_since"] == 0].set_index("cohort")["users"]
    df["cohort_size"] = df["cohort"].map(size).astype("int64")
    df["pct"] = [ratio_pct(int(u), int(s)) for u, s in
                 zip(df["users"], df["cohort_size"], strict=True)]
    return df


def profit_per_user(con: duckdb.DuckDBPyConnection, grain: str, period: str, tz: str = "UTC"
                    ) -> pd.DataFrame:
    """Per active user of the period: cost, revenue, profit (Decimal and micro) and requests."""
    p = make_period(grain, period, tz)
    df = user_totals(con, p.start, p.end)
    df["profit_micro"] = df["revenue_micro"] - df["cost_micro"]
    for name in ("cost", "revenue", "profit"):
        df[f"{name}_usd"] = [usd(v) for v in df[f"{name}_micro"]]
    return df


# Usage segments by counted requests in the period: (name, lowest count), ascending.
USAGE_SEGMENTS: tuple[tuple[str, int], ...] = (
    ("light (1–9 requests)", 1), ("regular (10–49)", 10), ("heavy (50–149)", 50),
    ("power (150+)", 150))


def usage_segments(con: duckdb.DuckDBPyConnection, grain: str, period: str, tz: str = "UTC",
                   policy: Policy | str | Path | None = None) -> pd.DataFrame:
    """Active users by segment of usage (counted requests in the period): users, their cost,
    revenue and profit (sums and per user), and how many made the profit target."""
    pol = resolve_policy(policy)
    df = profit_per_user(con, grain, period, tz)
    rows = []
    bounds = [lo for _, lo in USAGE_SEGMENTS] + [None]
    for (name, lo), hi in zip(USAGE_SEGMENTS, bounds[1:], strict=True):
        seg = df[(df["requests"] >= lo) & ((df["requests"] < hi) if hi else True)]
        n = len(seg)
        cost, revenue = int(seg["cost_micro"].sum()), int(seg["revenue_micro"].sum())
        rows.append({
            "segment": name, "users": n, "cost_usd": usd(cost), "revenue_usd": usd(revenue),
            "profit_usd": usd(revenue - cost), "cost_per_user": per_user(cost, n),
            "profit_per_user": per_user(revenue - cost, n),
            "at_target": int((seg["profit_micro"] >= pol.target).sum()),
            "at_target_pct": ratio_pct(int((seg["profit_micro"] >= pol.target).sum()), n),
        })
    return pd.DataFrame(rows)


def revenue_mix(figures: dict[str, Any]) -> dict[str, float | None]:
    """Each stream's share of the period's revenue (%), from exact sums; None if revenue <= 0."""
    total = figures["revenue_usd"]
    return {s: ratio_pct(v, total) for s, v in figures["revenue_by_stream"].items()}
