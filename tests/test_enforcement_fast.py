"""The fast replay equals the plain loop over `decide`, exactly, on random histories.

The histories are drawn from instants and amounts that sit on the boundaries: month
starts (and one micro-second either side) in the policy timezone, clicks exactly
unlock_hours before a request, costs at and around the thresholds, same-instant ties.
"""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from enforcement.fast_replay import replay_fast
from enforcement.replay import History, from_us, month_start_us, parse_month, replay_plain
from tests.enforcement_fixtures import seed_policy

SEED = seed_policy()
HOUR = 3_600_000_000
MONTHS = [parse_month(m) for m in ("2026-02", "2026-03", "2026-04")]
OFFSETS = [-1, 0, 1, HOUR, 24 * HOUR, 24 * HOUR + 1, 25 * HOUR, 10 * 24 * HOUR]
COSTS = ["0", "0.000001", "0.000005", "0.000004", "0.01", "0.02", "0.25", "0.30",
         "0.499999", "0.50", "0.500001", "1.00", "1.25", "1.50", "1.750001", "2.00", "2.000001"]
AMOUNTS = ["5.00", "4.999999", "5.000001", "0.05", "3.00", "1.00", "-5.00", "-0.000001", "0"]
ACTIONS = ["simple_message", "meal_plan", "error_handling", "dietary_advice", "other"]
STREAMS = ["tokens", "premium", "affiliate", "data", "other"]
USERS = ["+1", "+2", "+3"]

policies = st.sampled_from([
    SEED,
    SEED.with_changes({"timezone": "America/New_York"}),
    SEED.with_changes({"timezone": "Asia/Kolkata", "tokens.free_monthly": 5,
                       "affiliate.unlock_hours": 0}),
    SEED.with_changes({"timezone": "Europe/Paris", "levels.normal": "1.00",
                       "levels.reduced_quality": "0.50", "thresholds.free_tier": "0.25",
                       "cost_factor_bp.affiliate_gated": 3333, "cost_factor_bp.basic_only": 1,
                       "tokens.free_monthly": 2, "tokens.bonus_pct": 33,
                       "tokens.price": "0.07", "system.actions": ["error_handling", "other"]}),
])


@st.composite
def histories(draw: st.DrawFn, policy) -> History:
    # Base instants: month starts in the policy timezone, shifted by boundary offsets.
    def instant() -> object:
        base = month_start_us(draw(st.sampled_from(MONTHS)), policy.timezone)
        return from_us(base + draw(st.sampled_from(OFFSETS)))

    ids = iter(range(10_000))

    def eid() -> str:
        # Random-looking ids so that ties do not follow insertion order.
        return f"e{draw(st.integers(0, 99)):02d}-{next(ids)}"

    n_req = draw(st.integers(0, 25))
    requests = [(eid(), draw(st.sampled_from(USERS)), instant(), draw(st.sampled_from(ACTIONS)),
                 draw(st.sampled_from(COSTS))) for _ in range(n_req)]
    n_rev = draw(st.integers(0, 6))
    revenue = [(eid(), draw(st.sampled_from(USERS)), instant(), draw(st.sampled_from(STREAMS)),
                draw(st.sampled_from(AMOUNTS)), draw(st.sampled_from([None, None, 0, 7, 120])))
               for _ in range(n_rev)]
    n_clk = draw(st.integers(0, 4))
    clicks = [(eid(), draw(st.sampled_from(USERS)), instant()) for _ in range(n_clk)]
    # Some requests exactly unlock_hours after a click.
    for _, user, at in clicks[:2]:
        requests.append((eid(), user, at + timedelta(hours=policy.unlock_hours), "meal_plan",
                         draw(st.sampled_from(COSTS))))
    return History.from_rows(requests, revenue, clicks)


@st.composite
def cases(draw: st.DrawFn) -> tuple:
    policy = draw(policies)
    span = draw(st.sampled_from([(None, None), ("2026-02", "2026-04"), ("2026-03", "2026-03"),
                                 ("2026-01", "2026-05")]))
    return policy, draw(histories(policy)), span


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_fast_replay_equals_plain_replay_exactly(case: tuple) -> None:
    policy, history, (start, end) = case
    plain = replay_plain(history, policy, start, end)
    fast = replay_fast(history, policy, start, end)
    pd.testing.assert_frame_equal(plain.table, fast.table)
    assert plain.months == fast.months
    assert plain.total == fast.total


def test_fast_replay_equals_plain_on_a_synthetic_month_of_500_users() -> None:
    from tests.enforcement_fixtures import synthetic_frames

    history = History.from_frames(*synthetic_frames(500, seed=11))
    for policy in (SEED, SEED.with_changes({"timezone": "Pacific/Auckland"})):
        plain, fast = replay_plain(history, policy), replay_fast(history, policy)
        pd.testing.assert_frame_equal(plain.table, fast.table)
        assert plain.total == fast.total and plain.total["requests"] > 20_000
