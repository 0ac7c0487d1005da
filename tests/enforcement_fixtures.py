"""Shared helpers for the enforcement tests and benchmark: synthetic histories, tiny DuckDB files.

The synthetic history stands in for the demo generator (`python -m loaders demo`) while it
does not exist, and is sized like the benchmark's target: ~50 requests per user a month.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from enforcement.policy import Policy, load_policy

ROOT = Path(__file__).resolve().parent.parent
SEED_POLICY = ROOT / "enforcement" / "policies" / "seed-default.toml"
SCHEMA = ROOT / "loaders" / "schema.sql"

ACTIONS = np.array(["simple_message", "meal_plan", "grocery_list", "nutrition_analysis",
                    "recipe_search", "dietary_advice", "error_handling", "other_action"],
                   dtype=object)
# Costs in micro-dollars, chosen so that sums land on the seed's thresholds often.
COSTS = np.array([1_000, 20_000, 50_000, 80_000, 100_000, 250_000, 300_000], dtype=np.int64)


def seed_policy() -> Policy:
    return load_policy(SEED_POLICY)


def _us(year: int, month: int) -> int:
    return int(datetime(year, month, 1, tzinfo=UTC).timestamp()) * 1_000_000


def synthetic_frames(users: int, per_user: int = 50, year: int = 2026, month: int = 3,
                     seed: int = 7) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(requests, revenue, clicks) frames in `History.from_frames`' column names, one month."""
    rng = np.random.default_rng(seed)
    start, end = _us(year, month), _us(year + (month == 12), month % 12 + 1)
    ids = np.array([f"+1555{n:07d}" for n in range(users)], dtype=object)

    n_req = rng.poisson(per_user, users)
    req_user = np.repeat(np.arange(users), n_req)
    # Whole minutes, so same-instant ties happen.
    req_ts = start + rng.integers(0, (end - start) // 60_000_000, len(req_user)) * 60_000_000
    requests = pd.DataFrame({
        "event_id": np.array([f"c{i:09d}" for i in range(len(req_user))], dtype=object),
        "user_id": ids[req_user],
        "ts_us": req_ts,
        "action": ACTIONS[rng.integers(0, len(ACTIONS), len(req_user))],
        "cost_micro": COSTS[rng.integers(0, len(COSTS), len(req_user))],
    })

    buyers = np.flatnonzero(rng.random(users) < 0.35)
    kinds = rng.integers(0, 4, len(buyers))
    streams = np.array(["tokens", "tokens", "premium", "affiliate"], dtype=object)[kinds]
    amounts = np.array([5_000_000, 4_950_000, 9_990_000, 1_250_000], dtype=np.int64)[kinds]
    tokens = pd.array(np.where(kinds == 0, 120, 0), dtype="Int64")
    tokens[kinds != 0] = pd.NA
    revenue = pd.DataFrame({
        "event_id": np.array([f"r{i:09d}" for i in range(len(buyers))], dtype=object),
        "user_id": ids[buyers],
        "ts_us": start + rng.integers(0, (end - start) // 60_000_000, len(buyers)) * 60_000_000,
        "stream": streams, "amount_micro": amounts, "tokens": tokens,
    })

    clickers = np.flatnonzero(rng.random(users) < 0.3)
    clicks = pd.DataFrame({
        "event_id": np.array([f"a{i:09d}" for i in range(len(clickers))], dtype=object),
        "user_id": ids[clickers],
        "ts_us": start + rng.integers(0, (end - start) // 60_000_000, len(clickers)) * 60_000_000,
    })
    return requests, revenue, clicks


def write_db(path: Path, requests: pd.DataFrame, revenue: pd.DataFrame,
             clicks: pd.DataFrame, extra_cost_rows: pd.DataFrame | None = None) -> Path:
    """A DuckDB file with the contract's tables (loaders/schema.sql) holding these events."""
    import duckdb

    def ts(frame: pd.DataFrame) -> pd.Series:
        return pd.to_datetime(frame["ts_us"], unit="us")

    con = duckdb.connect(str(path))
    try:
        con.execute(SCHEMA.read_text())
        req = pd.DataFrame({
            "event_id": requests["event_id"].astype(str),
            "user_id": requests["user_id"].astype(str),
            "ts": ts(requests), "action": requests["action"].astype(str),
            "cost_micro": requests["cost_micro"].astype("int64"),
        })
        con.register("req_df", req)
        con.execute("""INSERT INTO cost_events (event_id, user_id, ts, action, event_type,
                       cost_usd, counted, source)
                       SELECT event_id, user_id, ts, action, action,
                              CAST(CAST(cost_micro AS DECIMAL(18,0)) * 0.000001 AS DECIMAL(18,6)),
                              true, 'test' FROM req_df""")
        if extra_cost_rows is not None:
            con.register("extra_df", extra_cost_rows)
            con.execute("INSERT INTO cost_events BY NAME SELECT * FROM extra_df")
        rev = pd.DataFrame({
            "event_id": revenue["event_id"].astype(str), "user_id": revenue["user_id"].astype(str),
            "ts": ts(revenue), "stream": revenue["stream"].astype(str),
            "amount_micro": revenue["amount_micro"].astype("int64"),
            "tokens": revenue["tokens"].astype("Int64"),
        })
        con.register("rev_df", rev)
        con.execute("""INSERT INTO revenue_events (event_id, user_id, ts, stream, amount_usd,
                       tokens, source)
                       SELECT event_id, user_id, ts, stream,
                              CAST(CAST(amount_micro AS DECIMAL(18,0)) * 0.000001 AS DECIMAL(18,6)),
                              tokens, 'test' FROM rev_df""")
        clk = pd.DataFrame({
            "event_id": clicks["event_id"].astype(str), "user_id": clicks["user_id"].astype(str),
            "ts": ts(clicks),
        })
        con.register("clk_df", clk)
        con.execute("""INSERT INTO affiliate_events (event_id, user_id, ts, partner, kind, source)
                       SELECT event_id, user_id, ts, 'acme', 'click', 'test' FROM clk_df""")
    finally:
        con.close()
    return path
