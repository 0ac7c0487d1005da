"""`level_ranks` (numpy) and `level_rank_sql` (DuckDB), the KPI layer's two ways to count
levels, are `level_of` (the rule), position for position."""

from __future__ import annotations

import duckdb
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from enforcement.decide import level_of
from enforcement.level_arrays import level_counts, level_names, level_ranks
from enforcement.level_sql import level_rank_macro, level_rank_sql
from enforcement.levels import Level
from tests.enforcement_fixtures import seed_policy

SEED = seed_policy()
POLICIES = [
    SEED,
    SEED.with_changes({"levels.normal": "1.00", "levels.reduced_quality": "0.50",
                       "thresholds.free_tier": "0.25"}),
    SEED.with_changes({"profit.target": "0.00", "thresholds.cutoff": "2.50",
                       "thresholds.restore_payment": "6.00", "levels.basic_only": "0.40",
                       "levels.reduced_quality": "0.80", "levels.normal": "0.90"}),
]


def _edges(policy) -> list[int]:
    """Every threshold, a micro-dollar either side, as costs and as profits."""
    points = [policy.target, policy.free_tier, policy.restriction, policy.cutoff,
              policy.band_normal, policy.band_reduced_quality, policy.band_basic_only, 0]
    return sorted({p + d for p in points for d in (-1, 0, 1)})


@st.composite
def positions(draw: st.DrawFn) -> tuple[object, list[int], list[int]]:
    policy = draw(st.sampled_from(POLICIES))
    edge = st.sampled_from(_edges(policy))
    money = st.one_of(edge, st.integers(-10_000_000, 20_000_000))
    n = draw(st.integers(1, 40))
    cost = draw(st.lists(st.one_of(edge, st.integers(0, 20_000_000)), min_size=n, max_size=n))
    # Revenue drawn so that the profit (revenue - cost) lands on an edge as often as not.
    profit = draw(st.lists(money, min_size=n, max_size=n))
    return policy, cost, [c + p for c, p in zip(cost, profit, strict=True)]


@settings(max_examples=400, deadline=None)
@given(positions())
def test_level_ranks_is_level_of_for_every_position(case) -> None:
    policy, cost, revenue = case
    want = [level_of(c, r, policy).rank for c, r in zip(cost, revenue, strict=True)]
    assert level_ranks(np.array(cost), np.array(revenue), policy).tolist() == want


@settings(max_examples=200, deadline=None)
@given(positions())
def test_level_names_are_level_of_for_every_position(case) -> None:
    policy, cost, revenue = case
    want = [level_of(c, r, policy).value for c, r in zip(cost, revenue, strict=True)]
    assert level_names(np.array(cost), np.array(revenue), policy).tolist() == want


@settings(max_examples=300, deadline=None)
@given(positions())
def test_level_rank_sql_is_level_of_for_every_position(case) -> None:
    policy, cost, revenue = case
    want = [level_of(c, r, policy).rank for c, r in zip(cost, revenue, strict=True)]
    con = duckdb.connect()
    con.execute(level_rank_macro(policy))
    rows = [f"({i}, {c}::BIGINT, {r}::BIGINT)"
            for i, (c, r) in enumerate(zip(cost, revenue, strict=True))]
    got = con.execute(f"SELECT level_rank(cost, revenue) FROM (VALUES {', '.join(rows)}) "
                      "AS p(i, cost, revenue) ORDER BY i").fetchall()
    assert [g for (g,) in got] == want


def test_level_rank_sql_at_the_two_dollar_cutoff_on_both_sides() -> None:
    con = duckdb.connect()
    ranks = [con.execute(f"SELECT {level_rank_sql(SEED, str(c), '0')}").fetchone()[0]
             for c in (2_000_000, 2_000_001)]
    assert ranks == [level_of(2_000_000, 0, SEED).rank, Level.PAYMENT_REQUIRED.rank]
    assert ranks[0] != Level.PAYMENT_REQUIRED.rank


def test_the_cutoff_of_two_dollars_on_both_sides() -> None:
    cost = np.array([2_000_000, 2_000_001])  # no revenue: profit below the $3 target
    ranks = level_ranks(cost, np.zeros(2, dtype=np.int64), SEED)
    assert [r for r in ranks] == [level_of(2_000_000, 0, SEED).rank,
                                  Level.PAYMENT_REQUIRED.rank]
    assert ranks[0] != Level.PAYMENT_REQUIRED.rank


def test_level_counts_names_every_level() -> None:
    counts = level_counts(np.array([100, 2_000_001]), np.array([0, 0]), SEED)
    assert counts == {"normal": 1, "reduced_quality": 0, "basic_only": 0,
                      "affiliate_gated": 0, "payment_required": 1}
