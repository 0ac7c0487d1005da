"""The guide's secondary KPIs (kpis.md "Affiliates, token habits and upgrades"), on a small
history worked out by hand, at every grain and in two timezones, on both engines (DuckDB,
and Spark on a lake)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from queries import kpis as K

A, B, C, D, E = (f"+1555000000{i}" for i in range(1, 6))
PARIS = "Europe/Paris"  # UTC+1 in February and March 2026 (before the end-of-March change)


def cost(user: str, ts: str) -> dict:
    return {"user_id": user, "ts": ts, "action": "meal_plan", "cost_usd": "0.10"}


def revenue(user: str, ts: str, stream: str, amount: str) -> dict:
    return {"user_id": user, "ts": ts, "stream": stream, "amount_usd": amount}


def shown(user: str, ts: str, kind: str = "shown") -> dict:
    return {"user_id": user, "ts": ts, "partner": "HelloFresh", "kind": kind}


@pytest.fixture
def history(make_db: Callable[..., Path], engine: Callable[[Path], object]):
    db = make_db(
        costs=[cost(A, "2026-03-02T10:00:00Z"), cost(A, "2026-03-14T20:00:00Z"),
               cost(A, "2026-03-15T08:00:00Z"), cost(B, "2026-03-14T12:00:00Z"),
               cost(C, "2026-02-11T09:00:00Z"), cost(C, "2026-03-14T15:00:00Z"),
               cost(D, "2026-03-14T16:00:00Z")],
        revenue=[revenue(A, "2026-03-01T09:00:00Z", "tokens", "5.00"),
                 revenue(A, "2026-03-14T21:00:00Z", "tokens", "-5.00"),   # a refund
                 revenue(A, "2026-03-14T23:30:00Z", "premium", "10.00"),  # Paris: 15 March
                 revenue(B, "2026-03-14T12:00:00Z", "tokens", "5.00"),
                 revenue(B, "2026-03-14T13:00:00Z", "tokens", "2.00"),
                 revenue(B, "2026-03-14T12:00:00Z", "premium", "10.00"),  # same instant
                 revenue(C, "2026-02-01T09:00:00Z", "tokens", "5.00"),
                 revenue(C, "2026-02-10T09:00:00Z", "premium", "10.00"),
                 revenue(E, "2026-03-14T10:00:00Z", "tokens", "5.00")],   # E is never active
        affiliate=[shown(B, "2026-03-14T09:00:00Z"), shown(C, "2026-03-14T10:00:00Z"),
                   shown(D, "2026-03-14T11:00:00Z"), shown(A, "2026-03-14T23:30:00Z"),
                   shown(A, "2026-03-20T09:00:00Z"),
                   shown(C, "2026-03-14T10:05:00Z", "click"),
                   shown(C, "2026-03-14T11:00:00Z", "conversion")])
    con = engine(db)
    yield con
    con.close()


SECONDARY = ("affiliate_shown", "affiliate_clicks", "affiliate_conversions",
             "affiliate_ctr_pct", "affiliate_conversion_pct", "token_purchases",
             "token_purchases_per_buyer", "premium_upgrades", "premium_upgrade_pct")

CASES = [
    # day 14 March, UTC: active A (20:00), B, C, D. Shown 09/10/11/23:30 = 4, 1 click, 1
    # conversion. Purchases of active users: B's 5.00 and 2.00 (A's line is a refund, E is
    # not active); buyers: B only (A's tokens sum to -5) -> 2.00 per buyer. Upgrades: A (first
    # premium 23:30, tokens on 1 March before it); B's tokens are not *before* its premium.
    # Base: A and B (C had premium before the day; D never bought tokens) -> 1 of 2.
    ("day", "2026-03-14", "UTC", (4, 1, 1, 25.0, 100.0, 2, 2.0, 1, 50.0)),
    # the same day in Paris ends at 23:00 UTC: the 23:30 offer and A's premium fall on the 15th.
    ("day", "2026-03-14", PARIS, (3, 1, 1, 100 / 3, 100.0, 2, 2.0, 0, 0.0)),
    # 15 March in Paris: A alone is active (08:00 UTC); no click, so no conversion rate.
    ("day", "2026-03-15", PARIS, (1, 0, 0, 0.0, None, 0, None, 1, 100.0)),
    ("week", "2026-W11", "UTC", (4, 1, 1, 25.0, 100.0, 2, 2.0, 1, 50.0)),
    ("week", "2026-W11", PARIS, (4, 1, 1, 25.0, 100.0, 2, 2.0, 1, 50.0)),
    # March: also the 20 March offer, and A's 1 March purchase (A is active in March); A's
    # tokens net to 0, so B is the one buyer: 3 purchases per buyer.
    ("month", "2026-03", "UTC", (5, 1, 1, 20.0, 100.0, 3, 3.0, 1, 50.0)),
    ("month", "2026-03", PARIS, (5, 1, 1, 20.0, 100.0, 3, 3.0, 1, 50.0)),
    # February: C is active (11 Feb), bought tokens on 1 Feb and upgraded on 10 Feb.
    ("month", "2026-02", "UTC", (0, 0, 0, None, None, 1, 1.0, 1, 100.0)),
    ("month", "2026-02", PARIS, (0, 0, 0, None, None, 1, 1.0, 1, 100.0)),
]


@pytest.mark.parametrize(("grain", "period", "tz", "expected"), CASES)
def test_secondary_kpis_worked_by_hand(history, grain: str, period: str, tz: str,
                                       expected: tuple) -> None:
    k = K.kpis(history, grain, period, tz)
    got = tuple(k[name] for name in SECONDARY)
    assert got[:3] == expected[:3]
    assert got[5:8] == expected[5:8]
    for have, want in zip((got[3], got[4], got[8]), (expected[3], expected[4], expected[8]),
                          strict=True):
        assert have == pytest.approx(want) if want is not None else have is None


def test_secondary_kpis_are_in_the_json_with_two_decimals(history) -> None:
    out = json.loads(K.to_json(K.kpis(history, "day", "2026-03-14", PARIS)))
    assert out["affiliate_ctr_pct"] == 33.33
    assert out["token_purchases_per_buyer"] == 2.0
    assert out["premium_upgrade_pct"] == 0.0
    quiet = json.loads(K.to_json(K.kpis(history, "day", "2026-03-15", PARIS)))
    assert quiet["affiliate_conversion_pct"] is None
    assert quiet["token_purchases_per_buyer"] is None


def test_purchases_per_buyer_rounds_half_up(make_db: Callable[..., Path],
                                            engine: Callable[[Path], object]) -> None:
    # 9 purchases by 8 buyers = 1.125, which rounds half up to 1.13 (half-even: 1.12)
    costs = [cost(f"+1555100000{i}", "2026-03-14T09:00:00Z") for i in range(8)]
    rev = [revenue(f"+1555100000{i}", "2026-03-14T10:00:00Z", "tokens", "5.00")
           for i in range(8)]
    rev += [revenue("+15551000000", "2026-03-14T11:00:00Z", "tokens", "1.00")]
    con = engine(make_db(costs=costs, revenue=rev))
    try:
        assert K.kpis(con, "day", "2026-03-14")["token_purchases_per_buyer"] == 1.13
    finally:
        con.close()
