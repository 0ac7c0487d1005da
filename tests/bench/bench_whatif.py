"""Benchmark: the What-if panel and its sensitivity sweep, against the plain replay.

Rows:
- panel, cold: read the month's history, replay the starting policy and the edited one
  (fast), compare and rank who changes - what the page does on its first run;
- panel, warm: one edit with the history and the baseline cached (every later edit):
  the candidate's replay, the comparison, who changes - goal < 2 s at 100,000 users;
- sweep: 20 steps of `thresholds.cutoff` (plus the current value) over min(users, 100,000)
  users, the history loaded once and reused.
Goals (issue 13): cold <= 2 s up to 100,000 users and <= 15 s at 1,000,000; one warm
edit <= 2 s up to 100,000 and <= 3 s at 1,000,000; the sweep <= 10 s. Each row says
whether it met its goal.
Baseline: the plain loop over `decide` for the edited policy. It runs ~100x slower, so past
10,000 users it runs on the first 10,000 users and its time is scaled by the request count
(the row says so); the sweep's baseline is that plain replay x 21 values, scaled the same
way. Equality: the fast replay of the plain's users equals it (table and summary), and the
sweep's row at the edited value equals the fast replay of the sweep's users.
`python -m tests.bench.bench_whatif --db PATH --users N` runs it alone.
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import time

import numpy as np
import pandas as pd

from enforcement import whatif
from enforcement.fast_replay import replay_fast
from enforcement.policy import load_policy
from enforcement.replay import History, replay_plain
from queries.history import read_history
from tests.bench.bench_enforcement import replay_span

ROOT = pathlib.Path(__file__).resolve().parents[2]
POLICY = ROOT / "enforcement" / "policies" / "seed-default.toml"
# The founders' question: a $1.50 cutoff and a $0.25 free tier (the order kept valid).
EDITS = {"thresholds.free_tier": "0.25", "thresholds.warning": "1.25",
         "thresholds.restriction": "1.40", "thresholds.cutoff": "1.50"}
PLAIN_USERS = 10_000
SWEEP_KEY, SWEEP_STEPS, SWEEP_USERS = "thresholds.cutoff", 20, 100_000
SWEEP_GOAL_S = 10.0


def goals(users: int) -> tuple[float, float]:
    """(cold, warm) goals in seconds for this many users (issue 13)."""
    return (2.0, 2.0) if users <= 100_000 else (15.0, 3.0)


def verdict(seconds: float, goal: float) -> str:
    return f"goal {goal:g} s: {'met' if seconds <= goal else 'NOT MET'}"


def first_users(history: History, n: int) -> History:
    """The history of the first `n` users only (the plain baseline's and the sweep's)."""
    if n >= len(history.users):
        return history
    keep = history.users[:n]

    def part(user: np.ndarray) -> np.ndarray:
        return user < n

    r, v, c = part(history.req_user), part(history.rev_user), part(history.clk_user)
    tokens = pd.array(np.where(history.rev_has_tokens[v], history.rev_tokens[v], 0),
                      dtype="Int64")
    tokens[~history.rev_has_tokens[v]] = pd.NA
    return History.from_frames(
        pd.DataFrame({"event_id": history.request_ids(np.flatnonzero(r)),
                      "user_id": keep[history.req_user[r]],
                      "ts_us": history.req_ts[r], "action": history.req_action[r],
                      "cost_micro": history.req_cost[r]}),
        pd.DataFrame({"event_id": history.rev_event_id[v], "user_id": keep[history.rev_user[v]],
                      "ts_us": history.rev_ts[v], "stream": history.rev_stream[v],
                      "amount_micro": history.rev_amount[v], "tokens": tokens}),
        pd.DataFrame({"event_id": history.clk_event_id[c], "user_id": keep[history.clk_user[c]],
                      "ts_us": history.clk_ts[c]}))


def panel(history: History, start, edited, first: str, last: str):
    """What the page computes for one edit: both replays, the comparison, who changes."""
    base = whatif.replay(history, start, first, last)
    cand = whatif.replay(history, edited, first, last)
    rows = whatif.comparison(base.total, cand.total, base_recorded=False)
    movers = whatif.who_changes(base.table, cand.table)
    return cand, rows, movers


def run(users: int, db: pathlib.Path) -> list[dict]:
    start = load_policy(POLICY)
    edited = start.with_changes(EDITS)
    first, last = replay_span(db, start.timezone)
    replay_fast(History.from_rows(), start, first, last)  # numba loaded before any timing

    t0 = time.perf_counter()
    history = read_history(db, first, last, start.timezone)
    read_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    panel(history, start, edited, first, last)
    cold_s = read_s + time.perf_counter() - t0
    base = whatif.replay(history, start, first, last)  # the page caches the baseline too
    warm_s = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        cand = whatif.replay(history, edited, first, last)
        whatif.comparison(base.total, cand.total, base_recorded=False)
        whatif.who_changes(base.table, cand.table)
        warm_s = min(warm_s, time.perf_counter() - t0)

    # The plain baseline: the first min(users, 10,000) users.
    subset = first_users(history, PLAIN_USERS)
    t0 = time.perf_counter()
    plain = replay_plain(subset, edited, first, last)
    plain_s = time.perf_counter() - t0
    fast = replay_fast(subset, edited, first, last)
    pd.testing.assert_frame_equal(plain.table, fast.table)
    if (plain.months, plain.total) != (fast.months, fast.total):
        raise AssertionError("fast and plain what-if summaries differ")
    scale = history.n_requests / max(subset.n_requests, 1)
    plain_full_s = plain_s * scale
    est = "" if subset is history else f" (est. x{scale:.1f} from {len(subset.users):,} users)"

    current = edited.to_flat()[SWEEP_KEY]
    lo, hi = whatif.default_range(edited, SWEEP_KEY)
    values = whatif.with_current(whatif.sweep_values(lo, hi, SWEEP_STEPS, "money"), current,
                                 "money")
    swept_users = first_users(history, SWEEP_USERS)
    t0 = time.perf_counter()
    swept = whatif.sweep(swept_users, edited, SWEEP_KEY, values, first, last)
    sweep_s = time.perf_counter() - t0
    at = swept[swept["value"] == current].iloc[0]
    expected = replay_fast(swept_users, edited, first, last).total
    if (at["profit_usd"], at["users_at_target"], at["not_served"]) != (
            expected["profit_usd"], expected["users_at_target"],
            sum(expected["not_served"].values())):
        raise AssertionError("the sweep's row at the edited value differs from the replay")
    sweep_plain_s = plain_s * len(values) * swept_users.n_requests / max(subset.n_requests, 1)

    n = history.n_requests
    cold_goal, warm_goal = goals(users)
    sweep_est = "" if swept_users is subset else f" (est. from {len(subset.users):,} users)"
    return [
        {"benchmark": f"what-if panel, cold: read + 2 replays + compare ({n:,} requests, "
                      f"{first}..{last}) [{verdict(cold_s, cold_goal)}]",
         "users": users, "figure": f"{cold_s:.2f} s",
         "baseline": f"{read_s + plain_full_s:.1f} s (read + plain){est}",
         "ratio": f"{(read_s + plain_full_s) / cold_s:,.1f}x faster"},
        {"benchmark": f"what-if panel, warm: one edit, history cached "
                      f"[{verdict(warm_s, warm_goal)}]",
         "users": users, "figure": f"{warm_s:.3f} s",
         "baseline": f"{plain_full_s:.1f} s (plain){est}",
         "ratio": f"{plain_full_s / warm_s:,.0f}x faster"},
        {"benchmark": f"what-if sweep, {len(values)} values of {SWEEP_KEY} "
                      f"({len(swept_users.users):,} users) [{verdict(sweep_s, SWEEP_GOAL_S)}]",
         "users": users,
         "figure": f"{sweep_s:.2f} s",
         "baseline": f"{sweep_plain_s:.1f} s (plain x {len(values)}){sweep_est}",
         "ratio": f"{sweep_plain_s / sweep_s:,.0f}x faster"},
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.bench_whatif")
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--db", type=pathlib.Path, required=True)
    args = parser.parse_args(argv)
    for row in run(args.users, args.db):
        print(" | ".join(str(row[k]) for k in ("benchmark", "users", "figure", "baseline",
                                                "ratio")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
