"""`level_of` over whole columns: every user's level in one numpy pass.

The KPI layer needs the level of each of up to a million users month to date; a Python call
per user took seconds. This is the same rule as `decide.level_of`, written over arrays;
`tests/test_level_arrays.py` holds the two equal (a property test, thresholds included).
"""

from __future__ import annotations

import numpy as np

from enforcement.levels import LEVELS, Level
from enforcement.policy import Policy

RANK = {level: level.rank for level in LEVELS}


def level_ranks(cost: np.ndarray, revenue: np.ndarray, policy: Policy) -> np.ndarray:
    """Each position's `level_of(cost, revenue, policy).rank` (int micro-dollar arrays)."""
    cost = np.asarray(cost, dtype=np.int64)
    profit = np.asarray(revenue, dtype=np.int64) - cost
    below = profit < policy.target
    level = np.select(
        [(cost <= policy.free_tier) | (profit > policy.band_normal),
         profit > policy.band_reduced_quality,
         profit > policy.band_basic_only],
        [RANK[Level.NORMAL], RANK[Level.REDUCED_QUALITY], RANK[Level.BASIC_ONLY]],
        RANK[Level.AFFILIATE_GATED])
    restricted = (cost > policy.restriction) & below & (level < RANK[Level.REDUCED_QUALITY])
    level = np.where(restricted, RANK[Level.REDUCED_QUALITY], level)
    level = np.where((cost > policy.cutoff) & below, RANK[Level.PAYMENT_REQUIRED], level)
    return level.astype(np.int8)


def level_counts(cost: np.ndarray, revenue: np.ndarray, policy: Policy) -> dict[str, int]:
    """How many positions are at each level, every level present (0 where none)."""
    counts = np.bincount(level_ranks(cost, revenue, policy), minlength=len(LEVELS))
    return {level.value: int(counts[level.rank]) for level in LEVELS}


def level_names(cost: np.ndarray, revenue: np.ndarray, policy: Policy) -> np.ndarray:
    """Each position's `level_of(cost, revenue, policy).value`, as an array of strings."""
    names = np.array([level.value for level in LEVELS], dtype=object)
    return names[level_ranks(cost, revenue, policy)]
