"""`whatif.recorded` (history as recorded, summed per user-month in one compiled pass) equals
the pandas group-by it replaced, on a history with recorded decisions over three months of
which two are asked for, refunds, and a user with revenue and no request."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from enforcement import whatif
from enforcement.decide import level_of
from enforcement.levels import NOT_SERVED_REASONS
from enforcement.months import month_label, month_start_us, parse_month
from enforcement.replay import History, finish
from tests.enforcement_fixtures import seed_policy

REASONS = np.array([None, "ok", *NOT_SERVED_REASONS], dtype=object)


def _history(seed: int, recorded: bool) -> History:
    rng = np.random.default_rng(seed)
    n_users, n = 40, 4000
    lo, hi = month_start_us(parse_month("2026-02"), "UTC"), month_start_us(
        parse_month("2026-05"), "UTC")
    user = np.sort(rng.integers(0, n_users - 1, n))  # the last user only pays
    ts = rng.integers(lo, hi, n)
    order = np.lexsort((ts, user))
    user, ts = user[order], ts[order]
    m = 300
    rev_user = np.append(rng.integers(0, n_users - 1, m - 1), n_users - 1)
    rev_ts = rng.integers(lo, hi, m)
    return History(
        users=np.array([f"+1555{u:04d}" for u in range(n_users)], dtype=object),
        req_user=user, req_ts=ts,
        req_action=pd.Categorical(rng.choice(["meal_plan", "simple_message"], n)),
        req_cost=rng.integers(0, 400_000, n), req_event_id=None,
        rev_user=rev_user, rev_ts=rev_ts, rev_stream=np.full(m, "tokens", dtype=object),
        rev_amount=rng.integers(-2_000_000, 9_000_000, m), rev_tokens=np.full(m, -1),
        rev_has_tokens=np.zeros(m, bool), rev_event_id=np.arange(m),
        clk_user=np.zeros(0, np.int64), clk_ts=np.zeros(0, np.int64),
        clk_event_id=np.zeros(0, np.int64),
        req_recorded_cost=rng.integers(0, 500_000, n) if recorded else None,
        req_recorded_reason=rng.choice(REASONS, n) if recorded else None,
        req_recorded_tokens=rng.integers(-1, 6, n) if recorded else None,
    )


def _pandas_recorded(history: History, first: str, last: str) -> pd.DataFrame:
    """The former implementation: a frame of every request, grouped by pandas."""
    policy = seed_policy()
    span = (parse_month(first), parse_month(last))
    bounds = np.array([month_start_us(m, "UTC") for m in range(span[0], span[1] + 2)])
    n = history.n_requests
    cost = history.req_cost if history.req_recorded_cost is None else history.req_recorded_cost
    reasons = history.req_recorded_reason if history.req_recorded_reason is not None \
        else np.full(n, None, dtype=object)
    tokens = history.req_recorded_tokens if history.req_recorded_tokens is not None \
        else np.full(n, -1)

    def inside(ts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        mask = (ts >= bounds[0]) & (ts < bounds[-1])
        return mask, np.searchsorted(bounds, ts[mask], side="right") - 1

    mask, month = inside(history.req_ts)
    reason = reasons[mask]
    req = pd.DataFrame({"u": history.req_user[mask], "m": month, "x": cost[mask],
                        "t": np.maximum(tokens[mask], 0),
                        **{r: (reason == r).astype(np.int64) for r in NOT_SERVED_REASONS}})
    rmask, rmonth = inside(history.rev_ts)
    rev = pd.DataFrame({"u": history.rev_user[rmask], "m": rmonth,
                        "x": history.rev_amount[rmask]})
    by = req.groupby(["u", "m"]).agg(cost=("x", "sum"), requests=("x", "size"),
                                     tokens_spent=("t", "sum"),
                                     **{r: (r, "sum") for r in NOT_SERVED_REASONS})
    rows = by.join(rev.groupby(["u", "m"]).agg(revenue=("x", "sum")), how="outer")
    rows = rows.fillna(0).astype(np.int64).reset_index()
    refused = sum(rows[r] for r in NOT_SERVED_REASONS)
    labels = np.array([month_label(span[0] + i) for i in range(len(bounds) - 1)], dtype=object)
    return finish(policy, {
        "user_id": history.users[rows["u"].to_numpy()], "month": labels[rows["m"].to_numpy()],
        "requests": rows["requests"], "served": rows["requests"] - refused,
        **{f"not_served_{r}": rows[r] for r in NOT_SERVED_REASONS},
        "tokens_spent": rows["tokens_spent"], "cost": rows["cost"],
        "revenue": rows["revenue"], "profit": rows["revenue"] - rows["cost"],
        "level": [level_of(int(c), int(r), policy).value
                  for c, r in zip(rows["cost"], rows["revenue"], strict=True)],
    }, span).table


@pytest.mark.parametrize("recorded", [True, False])
@pytest.mark.parametrize("seed", [1, 2])
def test_recorded_sums_equal_the_pandas_group_by(seed: int, recorded: bool) -> None:
    history = _history(seed, recorded)
    got = whatif.recorded(history, seed_policy(), "2026-03", "2026-04").table
    want = _pandas_recorded(history, "2026-03", "2026-04")
    pd.testing.assert_frame_equal(got, want)
    assert set(got["month"]) == {"2026-03", "2026-04"}  # February's events left out
    assert "+15550039" in set(got["user_id"])  # revenue, no request: still a row
    assert (got["not_served_payment_required"].sum() > 0) == recorded
    assert len(got) > 60
