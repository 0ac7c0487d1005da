"""Benchmark: each grain's KPIs (queries.kpis over DuckDB) against plain pandas.

The baseline computes the same figures with pandas over the events already in memory
(loading them is not timed), and the benchmark checks both give equal figures before it
reports a time. `python -m tests.bench.bench_kpis --db PATH --users N` runs it alone.
"""

from __future__ import annotations

import argparse
import pathlib
import time
from collections.abc import Callable
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pandas as pd
import pyarrow as pa

from enforcement.decide import level_of
from enforcement.levels import LEVELS
from enforcement.policy import Policy, load_policy
from loaders.publish import connect_read_only
from queries import kpis as K

ROOT = pathlib.Path(__file__).resolve().parents[2]
POLICY = ROOT / "enforcement" / "policies" / "seed-default.toml"
FIGURES = K.KPI_NAMES
REPEAT = 3


def load_frames(con) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The three event tables as pandas frames, money in integer micro-dollars (untimed).

    Text columns arrive through Arrow as categoricals, so 1,000,000 users' ~90 M cost
    lines fit in memory (plain string columns do not, on 24 GB).
    """
    def frame(sql: str) -> pd.DataFrame:
        table = con.sql(sql).to_arrow_table()
        table = table.from_arrays(
            [c.dictionary_encode() if pa.types.is_string(c.type) or pa.types.is_large_string(
                c.type) else c for c in table.columns], names=table.column_names)
        return table.to_pandas()

    cost = frame(
        "SELECT user_id, ts, action, category, counted, "
        "CAST(cost_usd * 1000000 AS BIGINT) AS cost_micro FROM cost_events")
    rev = frame(
        "SELECT user_id, ts, stream, CAST(amount_usd * 1000000 AS BIGINT) AS amount_micro "
        "FROM revenue_events")
    aff = frame("SELECT user_id, ts, kind FROM affiliate_events")
    return cost, rev, aff


def pandas_kpis(cost: pd.DataFrame, rev: pd.DataFrame, aff: pd.DataFrame, grain: str,
                period: str, tz: str, policy: Policy) -> dict[str, Any]:
    """The spec's figures, written plainly in pandas (the reference for the benchmark)."""
    p = K.make_period(grain, period, tz)
    s, e = p.utc()
    counted = cost[cost["counted"]]
    cp = counted[(counted["ts"] >= s) & (counted["ts"] < e)]
    rp = rev[(rev["ts"] >= s) & (rev["ts"] < e)]
    active = pd.Index(cp["user_id"].unique())
    earlier = set(counted.loc[counted["ts"] < s, "user_id"]) | set(rev.loc[rev["ts"] < s,
                                                                           "user_id"])
    cost_m, rev_m = int(cp["cost_micro"].sum()), int(rp["amount_micro"].sum())
    per_user_rev = rp.groupby("user_id", observed=True)["amount_micro"].sum()
    tok = rp[rp["stream"] == "tokens"]
    per_user_tok = tok.groupby("user_id", observed=True)["amount_micro"].sum()
    paying = int((per_user_rev.reindex(active).fillna(0) > 0).sum())
    buyers = int((per_user_tok.reindex(active).fillna(0) > 0).sum())
    streams = rp.groupby("stream", observed=True)["amount_micro"].sum()

    ms, me = K.mtd_bounds(p)
    ms, me = K.to_utc(ms), K.to_utc(me)
    mc = counted[(counted["ts"] >= ms) & (counted["ts"] < me)].groupby("user_id", observed=True)[
        "cost_micro"].sum()
    mtd_rev = rev[(rev["ts"] >= ms) & (rev["ts"] < me)]
    mr = mtd_rev.groupby("user_id", observed=True)["amount_micro"].sum()
    mr = mr.reindex(mc.index).fillna(0).astype("int64")
    at_target = int(((mr - mc) >= policy.target).sum())
    levels = pd.Series([level_of(int(c), int(r), policy).value
                        for c, r in zip(mc, mr, strict=True)], dtype="object").value_counts()

    retention = None
    if grain == "month":
        ps = K.make_period("month", K.previous_period("month", p.name), tz).utc()[0]
        prev = set(counted.loc[(counted["ts"] >= ps) & (counted["ts"] < s), "user_id"])
        retention = K.ratio_pct(len(prev & set(active)), len(prev))

    by_action = cp.groupby("action", observed=True)["cost_micro"].sum()
    category = cp["category"].astype(object).fillna("unknown")  # the period's rows only
    by_cat = cp.assign(category=category).groupby("category")["cost_micro"].sum()
    n = len(active)
    ap = aff[(aff["ts"] >= s) & (aff["ts"] < e)]
    kinds = ap["kind"].astype(object).value_counts()
    shown, clicks, conv = (int(kinds.get(k, 0)) for k in ("shown", "click", "conversion"))
    purchases = int(((tok["amount_micro"] > 0) & tok["user_id"].isin(active)).sum())
    pos = rev[rev["amount_micro"] > 0]
    first_prem = pos[pos["stream"] == "premium"].groupby("user_id", observed=True)["ts"].min()
    first_tok = pos[pos["stream"] == "tokens"].groupby("user_id", observed=True)["ts"].min()
    fp, ft = first_prem.reindex(active), first_tok.reindex(active)
    upgrades = int(((fp >= s) & (fp < e) & (ft < fp)).sum())
    base = int(((ft < e) & (fp.isna() | (fp >= s))).sum())
    per_buyer = None if buyers == 0 else float(
        (Decimal(purchases) / Decimal(buyers)).quantize(Decimal("0.01"), ROUND_HALF_UP))
    return {
        "active_users": n,
        "new_users": int((~active.isin(list(earlier))).sum()),
        "cost_usd": K.usd(cost_m), "revenue_usd": K.usd(rev_m),
        "revenue_by_stream": {st: K.usd(int(streams.get(st, 0))) for st in K.STREAMS},
        "profit_usd": K.usd(rev_m - cost_m),
        "margin_pct": K.ratio_pct(rev_m - cost_m, rev_m),
        "cost_per_user": K.per_user(cost_m, n), "revenue_per_user": K.per_user(rev_m, n),
        "profit_per_user": K.per_user(rev_m - cost_m, n),
        "paying_users": paying, "payment_conversion_pct": K.ratio_pct(paying, n),
        "token_buyers": buyers, "token_purchase_rate_pct": K.ratio_pct(buyers, n),
        "users_at_target": at_target, "users_at_target_pct": K.ratio_pct(at_target, len(mc)),
        "users_by_level": {lv.value: int(levels.get(lv.value, 0)) for lv in LEVELS},
        "cost_by_action": {str(k): K.usd(int(v)) for k, v in by_action.items()},
        "cost_by_category": {str(k): K.usd(int(v)) for k, v in by_cat.items()},
        "retention_pct": retention,
        "mtd_users": len(mc),
        "affiliate_shown": shown, "affiliate_clicks": clicks, "affiliate_conversions": conv,
        "affiliate_ctr_pct": K.ratio_pct(clicks, shown),
        "affiliate_conversion_pct": K.ratio_pct(conv, clicks),
        "token_purchases": purchases, "token_purchases_per_buyer": per_buyer,
        "premium_upgrades": upgrades, "premium_upgrade_base": base,
        "premium_upgrade_pct": K.ratio_pct(upgrades, base),
    }


def figures(k: dict[str, Any]) -> dict[str, Any]:
    return {name: k[name] for name in FIGURES}


def _best(fn: Callable[[], Any]) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(REPEAT):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def run(users: int, db: pathlib.Path, tz: str = "UTC") -> list[dict]:
    """One row per grain: queries.kpis' time against pandas', for the last period with data."""
    policy = load_policy(POLICY)
    con = connect_read_only(pathlib.Path(db))
    try:
        span = K.data_span(con, tz)
        if span is None:
            raise RuntimeError(f"no data in {db}")
        last = span[1]
        cost, rev, aff = load_frames(con)
        rows = []
        for grain in K.GRAINS:
            # a complete period: the last whole day/week/month the data reaches into
            period = K.period_name(grain, last - timedelta(days=1) if grain == "day" else last)
            fast_s, fast = _best(lambda g=grain, p=period: K.kpis(con, g, p, tz, policy))
            base_s, base = _best(lambda g=grain, p=period: pandas_kpis(cost, rev, aff, g, p, tz,
                                                                       policy))
            if figures(fast) != figures(base):
                diff = {n for n in FIGURES if fast[n] != base[n]}
                raise AssertionError(f"kpis {grain} {period}: DuckDB and pandas differ on {diff}")
            rows.append({
                "benchmark": f"kpis {grain} ({period}, {fast['active_users']:,} active)",
                "users": users,
                "figure": f"{fast_s:.3f} s",
                "baseline": f"pandas {base_s:.3f} s",
                "ratio": f"{base_s / fast_s:.1f}x" if fast_s else "-",
            })
        return rows
    finally:
        con.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=pathlib.Path, required=True)
    parser.add_argument("--users", type=int, default=0)
    parser.add_argument("--timezone", default="UTC")
    a = parser.parse_args()
    for row in run(a.users, a.db, a.timezone):
        print(row)
