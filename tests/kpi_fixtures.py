"""Hand-built businesses for the KPI tests, small enough to work every figure out by hand.

Users (phones shortened): A pays for tokens and gets a refund, B is a returning premium
user, C has revenue and no cost, D was active in February only, E is over the cutoff
without paying, F is in the basic_only band. Times are UTC, as stored.
"""

from __future__ import annotations

A, B, C, D, E, F = (f"+1555000000{i}" for i in range(1, 7))
H, J = "+15550000008", "+15550000009"


def cost(user: str, ts: str, action: str, usd: str, category: str | None = "ai",
         counted: bool = True, event_type: str | None = None) -> dict:
    return {"user_id": user, "ts": ts, "action": action, "cost_usd": usd, "counted": counted,
            "category": category, "event_type": event_type or f"{action}_completed"}


def revenue(user: str, ts: str, stream: str, usd: str) -> dict:
    return {"user_id": user, "ts": ts, "stream": stream, "amount_usd": usd}


MARCH_COSTS = [
    cost(B, "2026-02-10 09:00:00", "meal_plan", "0.100000"),
    cost(D, "2026-02-20 09:00:00", "recipe_search", "2.500000"),
    cost(E, "2026-03-10 08:00:00", "dietary_advice", "2.100000", "external_api"),
    cost(F, "2026-03-11 08:00:00", "grocery_list", "0.600000", "database"),
    # 23:30 UTC on the 14th is 00:30 on the 15th in Paris (UTC+1 in March before the 29th)
    cost(A, "2026-03-14 23:30:00", "meal_plan", "0.080000"),
    cost(A, "2026-03-15 10:00:00", "simple_message", "0.010000", "messaging"),
    # an estimate replaced by its actual: never counted
    cost(B, "2026-03-15 12:00:00", "simple_message", "0.500000", None, counted=False,
         event_type="simple_message"),
    cost(B, "2026-03-15 12:01:00", "simple_message", "0.020000", None),
    cost(A, "2026-03-20 10:00:00", "nutrition_analysis", "0.030000"),
]
MARCH_REVENUE = [
    revenue(D, "2026-02-21 09:00:00", "premium", "1.00"),
    revenue(F, "2026-03-11 09:00:00", "data", "1.00"),
    revenue(A, "2026-03-15 09:00:00", "tokens", "5.00"),
    revenue(A, "2026-03-15 11:00:00", "tokens", "-1.00"),  # a refund
    revenue(B, "2026-03-15 13:00:00", "premium", "2.00"),
    revenue(C, "2026-03-15 14:00:00", "affiliate", "1.25"),  # revenue, no cost
]

# Across a year end: 2026 has an ISO week 53 (28 Dec 2026 - 3 Jan 2027); 2025 has none.
YEAR_END_COSTS = [
    cost(H, "2026-12-31 12:00:00", "meal_plan", "1.000000"),
    cost(J, "2027-01-01 12:00:00", "meal_plan", "0.400000"),
    # Sunday 3 Jan 23:30 UTC (2026-W53) is Monday 4 Jan 00:30 in Paris (2027-W01)
    cost(H, "2027-01-03 23:30:00", "simple_message", "0.050000"),
]
YEAR_END_REVENUE = [revenue(J, "2027-01-02 12:00:00", "tokens", "5.00")]

# Paris goes to summer time on Sunday 29 March 2026: that day is 23 hours long.
DST_COSTS = [
    cost(A, "2026-03-28 23:30:00", "meal_plan", "0.100000"),  # Paris 29th 00:30 (+01)
    cost(A, "2026-03-29 21:30:00", "meal_plan", "0.200000"),  # Paris 29th 23:30 (+02)
    cost(B, "2026-03-29 22:30:00", "meal_plan", "0.400000"),  # Paris 30th 00:30 (+02)
]
