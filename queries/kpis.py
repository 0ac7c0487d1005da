"""Every figure of ../shared/spec/kpis.md, per day, ISO week or month, in a reporting timezone.

Pages, exports and the command line take their numbers from here and nowhere else. The SQL
files beside this module do the heavy lifting and return money as integer micro-dollars
(a DataFrame would turn DECIMAL into float); this module turns them into exact Decimals,
computes the ratios from exact counts, and asks `enforcement.level_of` for each user's level.

Periods are converted to UTC bounds here (zoneinfo), and the SQL filters the stored UTC
`ts` on them; series that group by local day convert in SQL with
`(ts AT TIME ZONE 'UTC') AT TIME ZONE $tz` (which SQLGlot turns into Spark's
`from_utc_timestamp`). Tests pin that both agree at a day boundary.
"""

from __future__ import annotations

import json
import math
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import duckdb

from core import formats, metrics
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
from enforcement.level_sql import level_rank_macro
from enforcement.levels import LEVELS
from enforcement.money import MICRO, fmt_usd, to_micro
from enforcement.policy import Policy, load_policy
from queries import Connection, arrays, concurrently, records, rollups, run, run_per_user

if TYPE_CHECKING:  # imported where a frame is built: `kpis()` needs none (the CLI starts
    import pandas as pd  # 0.4 s sooner without it)

SEED_POLICY = Path(__file__).resolve().parent.parent / "enforcement" / "policies" / \
    "seed-default.toml"

STREAMS = ("tokens", "premium", "affiliate", "data", "other")
MICRO_STEP = Decimal("0.000001")

# Every key of kpis(): the registry's figures, in its order (what the JSON always holds).
KPI_NAMES = metrics.figure_keys()

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
    """A Policy, or a policy file; None is the seed's default policy.

    The query layer never looks the current policy up in the settings: the page or command
    that calls it passes the one it uses.
    """
    if isinstance(policy, Policy):
        return policy
    return load_policy(SEED_POLICY if policy is None else policy)


# -- the KPIs ----------------------------------------------------------------------------

def user_totals(con: duckdb.DuckDBPyConnection, start: datetime, end: datetime) -> pd.DataFrame:
    """Per user with a counted cost in [start, end) (aware bounds): cost/revenue micro, requests."""
    if rollups.ready(con):
        return run_per_user(con, "user_totals_rollup",
                            **rollups.window(to_utc(start), to_utc(end)))
    return run_per_user(con, "user_totals", start=to_utc(start), end=to_utc(end))


def mtd_users(con: duckdb.DuckDBPyConnection, grain: str, period: str, tz: str = "UTC",
              policy: Policy | str | Path | None = None) -> pd.DataFrame:
    """Month-to-date position of every user in the base of users_at_target, with its level.

    Columns: user_id, cost_micro, revenue_micro, profit_micro, requests, at_target, level.
    The level is `enforcement.level_of` over the whole column (`level_arrays.level_names`,
    held equal to it by a property test), so the dashboard can never disagree with the rules.
    """
    pol = resolve_policy(policy)
    start, end = mtd_bounds(make_period(grain, period, tz))
    df = user_totals(con, start, end)
    df["profit_micro"] = df["revenue_micro"] - df["cost_micro"]
    df["at_target"] = df["profit_micro"] >= pol.target
    from enforcement.level_arrays import level_names  # numpy: a million users, one pass

    df["level"] = level_names(df["cost_micro"].to_numpy(), df["revenue_micro"].to_numpy(),
                              pol).tolist()  # a list, as before: the frame's string dtype
    return df


def _windowed(con: Connection, name: str, start: datetime, end: datetime, fast: bool
              ) -> list[dict[str, Any]]:
    """A query over the UTC window [start, end): its rollup twin where the rollups are
    ready (`fast`), the raw lines otherwise; both give the same rows."""
    if fast:
        return records(con, f"{name}_rollup", **rollups.window(start, end))
    return records(con, name, start=start, end=end)


def period_totals(con: Connection, start: datetime, end: datetime,
                  fast: bool | None = None) -> dict[str, Any]:
    """period_kpis.sql's one row for the UTC window [start, end) (money in micro-dollars)."""
    if fast is None:
        fast = rollups.ready(con)
    return _windowed(con, "period_kpis", start, end, fast)[0]


def period_money(con: Connection, start: datetime, end: datetime) -> dict[str, Any]:
    """The UTC window's counted cost and revenue (`cost_micro`, `revenue_micro`): what
    `period_totals` says of them, without the per-user figures (0.47 s → 0.01 s for a
    month of 1,000,000 users)."""
    return _windowed(con, "period_money", start, end, rollups.ready(con))[0]


def _from_sql(m: metrics.Metric, value: Any) -> Any:
    """A registry figure's value as its SQL file returned it (money: BIGINT micro-dollars)."""
    if value is None:
        return None
    return usd(int(value)) if m.unit == formats.USD else int(value)


def _derive(d: metrics.Derived, figures: dict[str, Any]) -> Any:
    """A figure computed from others, exactly (Decimal or int), as core.metrics declares."""
    a = figures[d.args[0]]
    if d.op == "per_user":
        return None if a is None else per_user(to_micro(a), figures["active_users"])
    b = figures[d.args[1]]
    if a is None or b is None:
        return None
    if d.op == "minus":
        return a - b
    if d.op == "pct":
        return ratio_pct(a, b)
    if d.op == "per":
        return None if b <= 0 else float(formats.round_half_up(Decimal(a) / Decimal(b), 2))
    raise ValueError(f"unknown derivation {d.op!r}")


class Positions(NamedTuple):
    """Users with a counted cost in a window, counted by where they stand (no row per user)."""

    users: int
    at_target: int            # month-to-date profit >= the policy's target
    over_cutoff_unpaid: int   # counted cost > the cutoff and revenue <= 0 (Daily, alerts)
    levels: dict[str, int]    # users per level, by enforcement's own rule


def mtd_counts(con: Connection, grain: str, period: str, tz: str = "UTC",
               policy: Policy | str | Path | None = None) -> tuple[int, int]:
    """Month to date at the end of the period: users with a counted cost, and how many of
    them made the profit target (what `mtd_users` would count, without a row per user)."""
    start, end = (to_utc(b) for b in mtd_bounds(make_period(grain, period, tz)))
    pos = positions(con, start, end, resolve_policy(policy))
    return pos.users, pos.at_target


def positions(con: Connection, start: datetime, end: datetime, pol: Policy,
              fast: bool | None = None) -> Positions:
    """Every user with a counted cost in [start, end) (aware bounds), counted: how many, at
    the target, over the cutoff unpaid, at each level. From the rollups the levels are
    counted in DuckDB by the expression enforcement/level_sql.py writes; from the raw lines
    every position comes out as two integer columns, counted in numpy."""
    start, end = to_utc(start), to_utc(end)
    if fast is None:
        fast = rollups.ready(con)
    if fast:
        rows = records(con, "mtd_levels_rollup", prelude=level_rank_macro(pol),
                       target=pol.target, cutoff=pol.cutoff, **rollups.window(start, end))
        levels = {level.value: 0 for level in LEVELS}
        for row in rows:
            levels[LEVELS[row["rank"]].value] = int(row["users"])
        return Positions(sum(int(r["users"]) for r in rows),
                         sum(int(r["at_target"]) for r in rows),
                         sum(int(r["over_cutoff_unpaid"]) for r in rows), levels)
    from enforcement.level_arrays import level_counts  # numpy, only on this path

    mtd = arrays(con, "mtd_positions", start=start, end=end)
    cost, revenue = mtd["cost_micro"], mtd["revenue_micro"]
    return Positions(len(cost), int(((revenue - cost) >= pol.target).sum()),
                     int(((cost > pol.cutoff) & (revenue <= 0)).sum()),
                     level_counts(cost, revenue, pol))


def _retention(con: Connection, p: Period, fast: bool) -> float | None:
    """retention_pct of a month: of the previous month's active users, the share active in it."""
    start, end = p.utc()
    prev = make_period("month", previous_period("month", p.name), p.tz)
    if fast:
        (r,) = records(con, "retention_rollup", **rollups.window(*prev.utc(), "prev_"),
                       **rollups.window(start, end, "cur_"))
    else:
        (r,) = records(con, "retention", prev_start=prev.utc()[0], start=start, end=end)
    return ratio_pct(int(r["retained"]), int(r["previous_users"]))


def _reads(p: Period, pol: Policy, fast: bool) -> dict[str, Any]:
    """Every read one period's figures need, by name, each a function of a connection: the
    registry's SQL files (each once) and the reads behind the computed figures."""
    start, end = p.utc()
    reads: dict[str, Any] = {"period_kpis": lambda c: period_totals(c, start, end, fast)}
    for m in metrics.METRICS:  # every figure a SQL file holds; each file runs once
        if m.sql and m.sql not in reads:
            reads[m.sql] = lambda c, name=m.sql: records(c, name, start=start, end=end)[0]
    reads["_breakdown"] = lambda c: _windowed(c, "cost_breakdown", start, end, fast)
    reads["_positions"] = lambda c: positions(c, *mtd_bounds(p), pol, fast)
    if p.grain == "month":
        reads["_retention"] = lambda c: _retention(c, p, fast)
    return reads


def _computed(done: dict[str, Any]) -> dict[str, Any]:
    """The figures that need the rules or more than one row: month-to-date positions and
    levels, breakdowns, streams and retention."""
    by: dict[str, dict[str, Decimal]] = {}
    for row in done["_breakdown"]:
        by.setdefault(row["dimension"], {})[str(row["key"])] = usd(row["cost_micro"])
    mtd_users, at_target, _, levels = done["_positions"]
    period_row = done["period_kpis"]
    return {
        "revenue_by_stream": {s: usd(int(period_row[f"{s}_micro"])) for s in STREAMS},
        "users_at_target": at_target,
        "users_at_target_pct": ratio_pct(at_target, mtd_users),
        "mtd_users": mtd_users,
        "users_by_level": levels,
        "cost_by_action": by.get("action", {}),
        "cost_by_category": by.get("category", {}),
        "retention_pct": done.get("_retention"),
    }


def kpis(con: duckdb.DuckDBPyConnection, grain: str, period: str, tz: str = "UTC",
         policy: Policy | str | Path | None = None) -> dict[str, Any]:
    """Every figure of the registry (core.metrics) for one period; all keys always present.

    Money is Decimal (exact; per-user figures rounded half up to the micro-dollar),
    percentages float from exact counts, None where the spec says null or where a figure
    does not exist at the grain (`retention_pct` is monthly). Also holds the period's
    `grain`, `period`, `label`, `timezone` and local `start`/`end` (ISO). The reads run at
    once (`queries.concurrently`): none depends on another.
    """
    zone(tz)
    pol = resolve_policy(policy)
    p = make_period(grain, period, tz)
    done = concurrently(con, _reads(p, pol, rollups.ready(con)))
    figures: dict[str, Any] = {}
    for m in metrics.METRICS:
        if m.sql:
            figures[m.key] = _from_sql(m, done[m.sql][m.sql_column])
    computed = _computed(done)
    for m in metrics.METRICS:  # in the registry's order: a derived figure follows its parts
        if m.computed:
            figures[m.key] = computed[m.key]
        elif m.derived:
            figures[m.key] = _derive(m.derived, figures)
        if grain not in m.grains:
            figures[m.key] = None
    head = {"grain": grain, "period": p.name, "label": p.label, "timezone": tz,
            "start": p.start.isoformat(), "end": p.end.isoformat()}
    return head | {k: figures[k] for k in metrics.figure_keys()}


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
    (row,) = records(con, "local_span_rollup" if rollups.ready(con) else "local_span", tz=tz)
    if row["first_local"] is None:
        return None
    return _as_date(row["first_local"]), _as_date(row["last_local"])


def _as_date(value: Any) -> date:
    """A local day as the engine returned it (a datetime from DuckDB, a Timestamp or a date)."""
    return value.date() if isinstance(value, datetime) else value


def daily_series(con: duckdb.DuckDBPyConnection, first_day: date, last_day: date,
                 tz: str = "UTC", policy: Policy | str | Path | None = None) -> pd.DataFrame:
    """One row per local day: active users, cost, revenue, profit (Decimal), cost per user,
    paying users, and users at target month to date at the end of each day (with its share).

    Each day's figures equal `kpis(con, "day", that day)`'s: the tests pin it.
    """
    import pandas as pd

    zone(tz)
    pol = resolve_policy(policy)
    mtd_start = local_midnight(first_day.replace(day=1), tz)
    end = local_midnight(last_day + timedelta(days=1), tz)
    if tz == "UTC" and rollups.ready(con):  # a UTC day is a rollup day
        df = run(con, "daily_series_rollup", day_from=first_day.replace(day=1),
                 day_to=last_day + timedelta(days=1), first_day=first_day,
                 last_day=last_day, target_micro=pol.target)
    else:
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
    import pandas as pd

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
    import pandas as pd

    p = make_period("month", month, tz)
    end = p.utc()[1]
    if tz == "UTC" and rollups.ready(con):  # a UTC month is a month rollup: 45 M lines fewer
        df = run(con, "retention_cohorts_rollup", end_month=end.date())
    else:
        df = run(con, "retention_cohorts", tz=tz, end=end)
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
    import pandas as pd

    pol = resolve_policy(policy)
    p = make_period(grain, period, tz)
    df = user_totals(con, p.start, p.end)  # micro-dollar sums: no Decimal per user
    df["profit_micro"] = df["revenue_micro"] - df["cost_micro"]
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


def profit_histogram(con: duckdb.DuckDBPyConnection, grain: str, period: str, tz: str = "UTC",
                     bins: int = 40) -> pd.DataFrame:
    """Active users of the period by their profit, in `bins` equal bins between the lowest and
    the highest: lo_usd, hi_usd (bin edges, for the chart's axis) and users (exact counts).
    A page draws forty bars, not a million points."""
    import numpy as np
    import pandas as pd

    p = make_period(grain, period, tz)
    df = user_totals(con, p.start, p.end)
    profit = (df["revenue_micro"] - df["cost_micro"]).to_numpy(dtype=np.int64)
    if len(profit) == 0:
        return pd.DataFrame({"lo_usd": [], "hi_usd": [], "users": []})
    counts, edges = np.histogram(profit, bins=bins)
    return pd.DataFrame({"lo_usd": edges[:-1] / MICRO, "hi_usd": edges[1:] / MICRO,
                         "users": counts.astype(np.int64)})


def revenue_mix(figures: dict[str, Any]) -> dict[str, float | None]:
    """Each stream's share of the period's revenue (%), from exact sums; None if revenue <= 0."""
    total = figures["revenue_usd"]
    return {s: ratio_pct(v, total) for s, v in figures["revenue_by_stream"].items()}
