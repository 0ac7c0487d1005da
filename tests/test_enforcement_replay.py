"""The replay: order, month starts in the policy timezone, tokens, premium, and the summary.

Every test runs both engines and asserts the same numbers from each.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta
from decimal import Decimal

import pandas as pd
import pytest

from enforcement.fast_replay import replay_fast
from enforcement.levels import LEVELS
from enforcement.replay import History, ReplayResult, replay_plain, tokens_credited
from tests.enforcement_fixtures import ROOT, seed_policy

P = seed_policy()
U1, U2 = "+15550000001", "+15550000002"
D = datetime


def both(history: History, policy=P, start=None, end=None) -> ReplayResult:
    """Run both engines, insist they agree, return one result."""
    plain = replay_plain(history, policy, start, end)
    fast = replay_fast(history, policy, start, end)
    pd.testing.assert_frame_equal(plain.table, fast.table)
    assert (plain.months, plain.total) == (fast.months, fast.total)
    return plain


def row(result: ReplayResult, user: str, month: str) -> dict:
    t = result.table
    hit = t[(t["user_id"] == user) & (t["month"] == month)]
    assert len(hit) == 1, t
    return hit.iloc[0].to_dict()


WORKED = History.from_rows(
    requests=[("r1", U1, D(2026, 3, 1, 9), "meal_plan", "0.30"),
              ("r2", U1, D(2026, 3, 1, 10), "meal_plan", "0.30"),
              ("r3", U1, D(2026, 3, 2, 9), "meal_plan", "0.30"),
              ("r4", U1, D(2026, 3, 3, 9), "simple_message", "1.40"),
              ("r5", U1, D(2026, 3, 3, 10), "simple_message", "0.02")],
    revenue=[("v1", U1, D(2026, 3, 2, 8), "tokens", "5.00", 120)])


def test_worked_example_month_end() -> None:
    r = both(WORKED)
    assert row(r, U1, "2026-03") == {
        "user_id": U1, "month": "2026-03", "requests": 5, "served": 3,
        "not_served_payment_required": 1, "not_served_affiliate_required": 1,
        "not_served_insufficient_tokens": 0, "tokens_spent": 11,  # 5 + 5 + 1
        "cost": 650_000, "revenue": 5_000_000, "profit": 4_350_000, "level": "normal"}
    s = r.months["2026-03"]
    assert (s["users"], s["users_at_target"], s["users_at_target_pct"]) == (1, 1, Decimal("100"))
    assert s["cost_usd"] == Decimal("0.65") and s["profit_usd"] == Decimal("4.35")
    assert s["users_by_level"] == {"normal": 1, "reduced_quality": 0, "basic_only": 0,
                                   "affiliate_gated": 0, "payment_required": 0}
    assert r.total == s


# -- month starts ------------------------------------------------------------------------------
ONE_FREE_MEAL = P.with_changes({"tokens.free_monthly": 5})


def _two_meals(first: datetime, second: datetime) -> History:
    return History.from_rows(requests=[("a", U1, first, "meal_plan", "0.01"),
                                       ("b", U1, second, "meal_plan", "0.01")])


def test_month_starts_at_local_midnight_in_the_policy_timezone() -> None:
    # New York is UTC-5 on 2026-03-01: the month starts at 05:00 UTC.
    policy = ONE_FREE_MEAL.with_changes({"timezone": "America/New_York"})
    r = both(_two_meals(D(2026, 3, 1, 4, 59, 59, 999_999), D(2026, 3, 1, 5, 0)), policy)
    feb, mar = row(r, U1, "2026-02"), row(r, U1, "2026-03")
    # Each month grants its own 5 free tokens: both meals are served.
    assert (feb["served"], mar["served"]) == (1, 1)
    assert list(r.months) == ["2026-02", "2026-03"]


def test_same_instants_in_utc_policy_share_one_month() -> None:
    r = both(_two_meals(D(2026, 3, 1, 4, 59, 59, 999_999), D(2026, 3, 1, 5, 0)), ONE_FREE_MEAL)
    m = row(r, U1, "2026-03")
    assert (m["served"], m["not_served_insufficient_tokens"]) == (1, 1)


def test_month_start_resets_cost_revenue_and_premium() -> None:
    h = History.from_rows(
        requests=[("r1", U1, D(2026, 3, 31, 23), "meal_plan", "0.40"),
                  ("r2", U1, D(2026, 4, 1, 0), "meal_plan", "0.40")],
        revenue=[("v1", U1, D(2026, 3, 1), "premium", "9.99", None)])
    r = both(h)
    mar, apr = row(r, U1, "2026-03"), row(r, U1, "2026-04")
    assert (mar["tokens_spent"], mar["revenue"]) == (0, 9_990_000)  # premium: no tokens
    assert (apr["tokens_spent"], apr["revenue"], apr["cost"]) == (5, 0, 400_000)  # reset


def test_paid_tokens_carry_over_and_free_tokens_do_not() -> None:
    policy = P.with_changes({"tokens.free_monthly": 0})
    h = History.from_rows(
        requests=[("r1", U1, D(2026, 3, 5), "meal_plan", "0.01"),
                  ("r2", U1, D(2026, 4, 5), "meal_plan", "0.01"),
                  ("r3", U1, D(2026, 4, 6), "meal_plan", "0.01")],
        revenue=[("v1", U1, D(2026, 3, 1), "tokens", "0.50", 10)])
    r = both(h, policy)
    assert row(r, U1, "2026-03")["tokens_spent"] == 5
    apr = row(r, U1, "2026-04")  # 5 paid tokens left from March, then none
    assert (apr["served"], apr["not_served_insufficient_tokens"]) == (1, 1)


def test_last_click_carries_over_the_month_start() -> None:
    h = History.from_rows(
        requests=[("r1", U1, D(2026, 4, 1, 0, 30), "meal_plan", "0.60")],
        clicks=[("c1", U1, D(2026, 3, 31, 23, 0))])
    r = both(h, start="2026-03", end="2026-04")
    apr = row(r, U1, "2026-04")
    # unlocked -> basic_only at 10%; month end: cost 0.06 is within the free tier -> normal
    assert (apr["served"], apr["cost"], apr["level"]) == (1, 60_000, "normal")
    assert len(r.table) == 1  # a click alone makes no user-month row


# -- order at the same instant ---------------------------------------------------------------
def test_revenue_at_the_same_instant_comes_before_the_request() -> None:
    t = D(2026, 3, 2, 8)
    h = History.from_rows(requests=[("a", U1, t, "meal_plan", "0.60")],
                          revenue=[("z", U1, t, "affiliate", "4.00", None)])
    m = row(both(h), U1, "2026-03")
    assert (m["served"], m["cost"]) == (1, 600_000)  # profit 3.40 -> normal, not gated


def test_click_at_the_same_instant_comes_before_the_request() -> None:
    t = D(2026, 3, 2, 8)
    h = History.from_rows(requests=[("a", U1, t, "meal_plan", "0.60")], clicks=[("z", U1, t)])
    assert row(both(h), U1, "2026-03")["served"] == 1


@pytest.mark.parametrize(("meal_id", "msg_id", "tokens"), [("a", "b", 5), ("b", "a", 1)])
def test_requests_at_the_same_instant_break_ties_by_event_id(meal_id, msg_id, tokens) -> None:
    # 5 free tokens: whichever request goes first is served, the meal plan then lacks tokens.
    t = D(2026, 3, 2, 8)
    h = History.from_rows(requests=[(msg_id, U1, t, "simple_message", "0.01"),
                                    (meal_id, U1, t, "meal_plan", "0.01")])
    m = row(both(h, ONE_FREE_MEAL), U1, "2026-03")
    assert (m["tokens_spent"], m["served"], m["not_served_insufficient_tokens"]) == (tokens, 1, 1)


# -- tokens credited, premium ---------------------------------------------------------------------
@pytest.mark.parametrize(("amount", "recorded", "tokens"), [
    ("5.00", None, 120),  # 100 + 20% bonus at exactly bonus_min
    ("4.99", None, 99),  # floor(99.8), no bonus
    ("5.01", None, 120),  # floor(100.2) = 100, + 20
    ("7.77", None, 186),  # floor(155.4) = 155, + floor(31) = 186
    ("5.00", 130, 130),  # as the source recorded them
    ("-5.00", None, -100),  # a refund takes tokens back
])
def test_tokens_credited_floor_plus_bonus_unless_recorded(amount, recorded, tokens) -> None:
    assert tokens_credited(int(Decimal(amount) * 1_000_000), recorded, P) == tokens


def test_a_purchase_without_recorded_tokens_grants_floor_plus_bonus() -> None:
    policy = P.with_changes({"tokens.free_monthly": 0, "tokens.cost.big": 120})
    h = History.from_rows(
        requests=[("r1", U1, D(2026, 3, 3), "big", "0.01"), ("r2", U1, D(2026, 3, 4), "big", "0")],
        revenue=[("v1", U1, D(2026, 3, 2), "tokens", "5.00", None)])
    m = row(both(h, policy), U1, "2026-03")
    assert (m["served"], m["tokens_spent"], m["not_served_insufficient_tokens"]) == (1, 120, 1)


def test_a_premium_refund_does_not_make_a_user_premium() -> None:
    policy = P.with_changes({"tokens.free_monthly": 0})
    h = History.from_rows(requests=[("r1", U1, D(2026, 3, 3), "meal_plan", "0.01")],
                          revenue=[("v1", U1, D(2026, 3, 2), "premium", "-9.99", None)])
    m = row(both(h, policy), U1, "2026-03")
    assert m["not_served_insufficient_tokens"] == 1 and m["revenue"] == -9_990_000


def test_system_actions_are_served_and_counted_in_cost() -> None:
    h = History.from_rows(requests=[("r1", U1, D(2026, 3, 3), "error_handling", "2.50"),
                                    ("r2", U1, D(2026, 3, 4), "error_handling", "0.001")])
    m = row(both(h), U1, "2026-03")
    assert (m["served"], m["cost"], m["tokens_spent"], m["level"]) == (
        2, 2_501_000, 0, "payment_required")


# -- rows and summaries -------------------------------------------------------------------------
def test_revenue_only_month_has_a_row_but_no_user_count() -> None:
    h = History.from_rows(
        requests=[("r1", U1, D(2026, 3, 3), "meal_plan", "0.10")],
        revenue=[("v1", U2, D(2026, 3, 2), "affiliate", "1.25", None)])
    r = both(h)
    assert list(r.table["user_id"]) == [U1, U2]
    s = r.months["2026-03"]
    assert (s["users"], s["revenue_usd"], s["requests"]) == (1, Decimal("1.25"), 1)
    assert sum(s["users_by_level"].values()) == 1


def test_summary_over_a_range_sums_months_and_counts_user_months() -> None:
    h = History.from_rows(requests=[
        ("r1", U1, D(2026, 3, 3), "meal_plan", "0.10"),
        ("r2", U1, D(2026, 4, 3), "meal_plan", "0.10"),
        ("r3", U2, D(2026, 4, 3), "meal_plan", "0.10")])
    r = both(h, start="2026-02", end="2026-04")
    assert list(r.months) == ["2026-02", "2026-03", "2026-04"]
    feb = r.months["2026-02"]
    assert (feb["users"], feb["users_at_target_pct"], feb["cost_usd"]) == (0, None, Decimal("0"))
    assert set(feb["users_by_level"]) == {lv.value for lv in LEVELS}
    assert set(feb["not_served"]) == {"payment_required", "affiliate_required",
                                      "insufficient_tokens"}
    assert (r.total["users"], r.total["requests"], r.total["cost_usd"]) == (
        3, 3, Decimal("0.30"))
    assert r.total["users_at_target"] == 0 and r.total["users_at_target_pct"] == Decimal("0")


def test_users_at_target_pct_rounds_to_two_decimals() -> None:
    # 1 of 3 users at target -> 33.33
    h = History.from_rows(
        requests=[(f"r{u}", u, D(2026, 3, 3), "meal_plan", "0.10") for u in ("a", "b", "c")],
        revenue=[("v", "a", D(2026, 3, 2), "other", "3.10", None)])
    s = both(h).months["2026-03"]
    assert (s["users_at_target"], s["users_at_target_pct"]) == (1, Decimal("33.33"))


def test_events_outside_the_range_are_left_out() -> None:
    h = History.from_rows(requests=[("r1", U1, D(2026, 2, 28, 23, 59), "meal_plan", "0.10"),
                                    ("r2", U1, D(2026, 3, 1), "meal_plan", "0.10")])
    r = both(h, start="2026-03", end="2026-03")
    assert r.total["requests"] == 1


def test_an_empty_history_gives_an_empty_table() -> None:
    r = both(History.from_rows(), start="2026-03", end="2026-03")
    assert len(r.table) == 0 and r.total["users"] == 0 and r.total["cost_usd"] == 0


def test_enforcement_core_imports_no_duckdb_streamlit_or_aws() -> None:
    code = ("import sys, enforcement, enforcement.policy, enforcement.decide, "
            "enforcement.replay, enforcement.fast_replay, enforcement.levels, enforcement.money\n"
            "bad = [m for m in ('duckdb', 'streamlit', 'boto3', 'botocore') if m in sys.modules]\n"
            "assert not bad, bad\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_replay_unlock_exactly_unlock_hours_after_click() -> None:
    click = D(2026, 3, 2, 8)
    h = History.from_rows(
        requests=[("r1", U1, click + timedelta(hours=24), "meal_plan", "0.60"),
                  ("r2", U1, click + timedelta(hours=24, microseconds=1), "meal_plan", "0.50")],
        clicks=[("c1", U1, click)])
    m = row(both(h), U1, "2026-03")
    assert (m["served"], m["not_served_affiliate_required"]) == (1, 1)
    # 0.60 at the basic factor, then projected 0.56 -> gated, locked: 0.50 at 10%
    assert m["cost"] == 60_000 + 50_000
