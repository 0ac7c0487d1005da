"""One palette for every chart, page and report: cost, revenue, profit, levels, targets.

A founder learns once that amber is cost, teal revenue, blue profit, a dashed green line
a target, and the levels run green to red as service degrades.
"""

from __future__ import annotations

COST = "#b45309"
REVENUE = "#0f766e"
PROFIT = "#1d4ed8"
TARGET = "#15803d"         # a target line (dashed), and "met"
MISS = "#b91c1c"           # "missed"
NEUTRAL = "#64748b"        # neither good nor bad
PREVIOUS = "#cbd5e1"       # the period before, a baseline
CANDIDATE = PROFIT         # what-if: the policy being tried
LEVELS = {
    "normal": "#15803d",
    "reduced_quality": "#65a30d",
    "basic_only": "#ca8a04",
    "affiliate_gated": "#ea580c",
    "payment_required": "#b91c1c",
}
SERIES = {"cost": COST, "revenue": REVENUE, "profit": PROFIT}
