"""A hand-built business for the Weekly and Users tests, worked out by hand below.

Week 2026-W11 is Mon 9 – Sun 15 March 2026 (UTC); the week before, W10, is 2 – 8 March.
Policy: the seed's (warning 1.50, cutoff 2.00, free tier 0.50, target 3.00).

A (…1111): W10 meal_plan 1.00; W11 meal_plan 0.40 (MTD 1.40), simple_message 0.20 (MTD 1.60:
   crosses the warning on 11 Mar 10:00), an estimate 0.90 that the loader pairs with the
   grocery_list actual 0.50 a minute later, so it is not counted (MTD 2.10: crosses the
   cutoff on 12 Mar 10:00); tokens 5.00 on 14 Mar (within 7 days of both).
   Week: 3 requests, cost 1.10, revenue 5.00, profit 3.90. MTD: 2.10 / 5.00 / 2.90 ->
   payment_required (cost > 2.00 and profit < 3), not at target. Balance 220 (the 17 Mar
   snapshot is after the week).
B (…2222): meal_plan 1.60 on 13 Mar (crosses the warning); affiliate 2.00 from partner
   =HYPERLINK("http://x","y") on 14 Mar (not a payment); premium 3.00 on 19 Mar (paid, in the
   7-day window). Week: cost 1.60, revenue 2.00, profit 0.40. MTD profit 0.40 -> basic_only.
C (…3333): tokens 10.00 and a refund -2.00: revenue 8.00, no cost -> normal, at target.
D (…0001): W10 only: simple_message 0.30, premium 4.00; a cost of 0.05 on 25 Mar (data end).
E (…4444): W10 meal_plan 1.60 (crossed the warning in W10, not W11); W11 simple_message 0.10,
   tokens 5.00. Week: cost 0.10, revenue 5.00, profit 4.90. MTD 1.70 / 5.00 / 3.30 -> normal.
F (…5555): meal_plan 2.50 on Sun 15 Mar 23:00 UTC: crosses warning and cutoff at once, never
   pays. In Europe/Paris that instant is Mon 16 Mar 00:00, week 12.
G (…6666): meal_plan 1.00 on 31 Mar and 0.70 on 2 Apr (W14 spans two months: MTD 0.70).

W11 totals: cost 1.10+1.60+0.10+2.50 = 5.30; revenue 5+2+8+5 = 20.00; profit 14.70.
Streams W11: tokens 18.00 (payers A, C, E; refunds -2.00), affiliate 2.00; W10: premium 4.00.
Actions W11: meal_plan 4.50 (A .40, B 1.60, F 2.50), grocery_list 0.50, simple_message 0.30;
W10: meal_plan 2.60 (A 1.00, E 1.60), simple_message 0.30.
Interventions W11: warning A, B, F (A and B paid: 5.00 + 3.00); cutoff A, F (A paid 5.00).
Cost optimisation W11 (price $0.05 a token): meal_plan 3 requests, $1.50 each against 5
tokens ($0.25): unit margin -$1.25; grocery_list $0.50 against 2 tokens ($0.10): -$0.40;
simple_message $0.15 against 1 token ($0.05): -$0.10. Category ai (every line's) grew
from 2.90 to 5.30: +2.40, 82.76%. Cost above revenue: F only, $2.50. Estimates: grocery_list
1 pair, estimated 0.90 against 0.50: +0.40, 80.00% high.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

A, B, C, D, E, F, G = ("+15550001111", "+15550002222", "+15550003333", "+15559990001",
                       "+15550004444", "+15550005555", "+15550006666")
PARTNER = '=HYPERLINK("http://x","y")'
WEEK = "2026-W11"


def cost(user: str, ts: str, action: str, usd: str, *, counted: bool | None = True,
         estimate: bool = False) -> dict:
    """A cost line; `counted=None` leaves it to the loader's estimate/actual pairing."""
    return {"user_id": user, "ts": ts, "action": action, "cost_usd": usd, "counted": counted,
            "event_type": action if estimate else f"{action}_completed"}


def revenue(user: str, ts: str, stream: str, usd: str, partner: str | None = None) -> dict:
    return {"user_id": user, "ts": ts, "stream": stream, "amount_usd": usd, "partner": partner}


COSTS = [
    cost(A, "2026-03-03 10:00:00", "meal_plan", "1.00"),
    cost(A, "2026-03-10 10:00:00", "meal_plan", "0.40"),
    cost(A, "2026-03-11 10:00:00", "simple_message", "0.20"),
    cost(A, "2026-03-12 09:59:00", "grocery_list", "0.90", counted=None, estimate=True),
    cost(A, "2026-03-12 10:00:00", "grocery_list", "0.50", counted=None),
    cost(B, "2026-03-13 10:00:00", "meal_plan", "1.60"),
    cost(D, "2026-03-04 10:00:00", "simple_message", "0.30"),
    cost(D, "2026-03-25 10:00:00", "simple_message", "0.05"),
    cost(E, "2026-03-06 10:00:00", "meal_plan", "1.60"),
    cost(E, "2026-03-10 11:00:00", "simple_message", "0.10"),
    cost(F, "2026-03-15 23:00:00", "meal_plan", "2.50"),
    cost(G, "2026-03-31 10:00:00", "meal_plan", "1.00"),
    cost(G, "2026-04-02 10:00:00", "meal_plan", "0.70"),
]
REVENUE = [
    revenue(A, "2026-03-14 09:00:00", "tokens", "5.00"),
    revenue(B, "2026-03-14 10:00:00", "affiliate", "2.00", PARTNER),
    revenue(B, "2026-03-19 10:00:00", "premium", "3.00", "family"),
    revenue(C, "2026-03-10 08:00:00", "tokens", "10.00"),
    revenue(C, "2026-03-11 08:00:00", "tokens", "-2.00"),
    revenue(D, "2026-03-05 10:00:00", "premium", "4.00", "monthly"),
    revenue(E, "2026-03-10 12:00:00", "tokens", "5.00"),
]
TOKENS = [
    {"user_id": A, "as_of": "2026-03-10 00:00:00", "balance": 100},
    {"user_id": A, "as_of": "2026-03-14 10:00:00", "balance": 220},
    {"user_id": A, "as_of": "2026-03-17 10:00:00", "balance": 200},
]


def build(make_db: Callable[..., Path], name: str = "weekly.duckdb") -> Path:
    """The business above as a DuckDB file, through the real loading path."""
    return make_db(costs=COSTS, revenue=REVENUE, tokens=TOKENS, name=name)


POLICY_FILE = Path(__file__).resolve().parent.parent / "enforcement" / "policies" / \
    "seed-default.toml"


def serve(make_db: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The business built, and the app pointed at it (UTC, the seed policy, no secrets)."""
    path = build(make_db)
    monkeypatch.setenv("PROFIT_DB", str(path))
    monkeypatch.setenv("PROFIT_TIMEZONE", "UTC")
    monkeypatch.setenv("PROFIT_POLICY", str(POLICY_FILE))
    monkeypatch.setenv("PROFIT_SECRETS", str(tmp_path / "none.toml"))
    return path
