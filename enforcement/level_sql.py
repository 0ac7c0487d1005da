"""`level_of` as one SQL expression, generated from a policy: levels counted where the
positions are, in DuckDB, without moving a million positions into Python.

The text is `decide.level_of` branch for branch, with the policy's integer micro-dollar
thresholds as literals (no user input reaches it); `tests/test_level_arrays.py` holds it
equal to `level_of` on every threshold and either side of each. No engine is imported:
this module only writes text, so `enforcement/` stays pure.
"""

from __future__ import annotations

from enforcement.levels import Level
from enforcement.policy import Policy


def level_rank_sql(policy: Policy, cost: str = "cost", revenue: str = "revenue") -> str:
    """A SQL expression for `level_of(cost, revenue, policy).rank` over two integer
    micro-dollar columns (names are fixed in code)."""
    profit = f"({revenue} - {cost})"
    below = f"{profit} < {int(policy.target)}"
    base = (f"CASE WHEN {cost} <= {int(policy.free_tier)} OR {profit} > "
            f"{int(policy.band_normal)} THEN {Level.NORMAL.rank} "
            f"WHEN {profit} > {int(policy.band_reduced_quality)} "
            f"THEN {Level.REDUCED_QUALITY.rank} "
            f"WHEN {profit} > {int(policy.band_basic_only)} THEN {Level.BASIC_ONLY.rank} "
            f"ELSE {Level.AFFILIATE_GATED.rank} END")
    return (f"CASE WHEN {cost} > {int(policy.cutoff)} AND {below} "
            f"THEN {Level.PAYMENT_REQUIRED.rank} "
            f"WHEN {cost} > {int(policy.restriction)} AND {below} "
            f"THEN greatest({base}, {Level.REDUCED_QUALITY.rank}) "
            f"ELSE {base} END")


def level_rank_macro(policy: Policy) -> str:
    """`CREATE TEMP MACRO level_rank(cost, revenue)` for a query that counts levels."""
    return (f"CREATE OR REPLACE TEMP MACRO level_rank(cost, revenue) AS "
            f"{level_rank_sql(policy)}")
