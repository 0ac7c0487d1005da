"""One decision: the spec's worked example row by row, and every threshold at its edge.

Money is micro-dollars: 1 USD = 1_000_000. `U` below turns "0.30" into 300_000.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from enforcement.decide import State, apply_factor, decide, level_of
from enforcement.levels import Level
from enforcement.money import to_micro as U
from tests.enforcement_fixtures import seed_policy

P = seed_policy()
NOW = datetime(2026, 3, 10, 12, 0)


# -- the worked example (defaults, one user, one month, UTC) ---------------------------------
def test_worked_example_row_1_first_meal_plan_served_normal() -> None:
    d = decide(State(0, 0, 100, 0), "meal_plan", U("0.30"), P, datetime(2026, 3, 1, 9))
    assert (d.served, d.level, d.reason, d.tokens_spent, d.cost) == (
        True, Level.NORMAL, "ok", 5, U("0.30"))
    assert d.free_tokens_spent == 5 and d.payment_due is None


def test_worked_example_row_2_gated_without_click_costs_affiliate_factor() -> None:
    # projected 0.60 > 0.50, profit -0.60 -> affiliate_gated; 0.30 * 10% = 0.03
    d = decide(State(U("0.30"), 0, 95, 0), "meal_plan", U("0.30"), P, datetime(2026, 3, 1, 10))
    assert (d.served, d.level, d.reason, d.tokens_spent, d.cost) == (
        False, Level.AFFILIATE_GATED, "affiliate_required", 0, U("0.03"))


def test_worked_example_row_4_after_purchase_normal_with_free_tokens_first() -> None:
    # before: 0.33 / 5.00 / 95 free + 120 paid; projected 0.63, profit 4.37 -> normal
    d = decide(State(U("0.33"), U("5.00"), 95, 120), "meal_plan", U("0.30"), P,
               datetime(2026, 3, 2, 9))
    assert (d.served, d.level, d.reason, d.cost) == (True, Level.NORMAL, "ok", U("0.30"))
    assert (d.tokens_spent, d.free_tokens_spent, d.paid_tokens_spent) == (5, 5, 0)


def test_worked_example_row_5_over_cutoff_below_target_needs_payment() -> None:
    # projected 2.03 > 2.00 and profit 2.97 < 3 -> payment_required, due max(5.00, 3-4.37)
    d = decide(State(U("0.63"), U("5.00"), 90, 120), "simple_message", U("1.40"), P,
               datetime(2026, 3, 3, 9))
    assert (d.served, d.level, d.reason, d.tokens_spent, d.cost) == (
        False, Level.PAYMENT_REQUIRED, "payment_required", 0, 0)
    assert d.payment_due == U("5.00")


def test_worked_example_row_6_small_request_after_refusal_served() -> None:
    d = decide(State(U("0.63"), U("5.00"), 90, 120), "simple_message", U("0.02"), P,
               datetime(2026, 3, 3, 10))
    assert (d.served, d.level, d.tokens_spent, d.cost) == (True, Level.NORMAL, 1, U("0.02"))


# -- level_of at every threshold: one micro-dollar below, at, above ---------------------------
@pytest.mark.parametrize(("cost", "expected"), [
    (U("0.499999"), Level.NORMAL),
    (U("0.50"), Level.NORMAL),  # at the free tier: still full service
    (U("0.500001"), Level.AFFILIATE_GATED),  # above: band(profit -0.500001)
])
def test_free_tier_is_strict(cost: int, expected: Level) -> None:
    assert level_of(cost, 0, P) is expected


@pytest.mark.parametrize(("cost", "expected"), [
    (U("1.999999"), Level.AFFILIATE_GATED),
    (U("2.00"), Level.AFFILIATE_GATED),  # cost exactly at the cutoff is not cut off
    (U("2.000001"), Level.PAYMENT_REQUIRED),
])
def test_cost_exactly_at_cutoff_is_not_cut_off(cost: int, expected: Level) -> None:
    assert level_of(cost, 0, P) is expected


@pytest.mark.parametrize(("revenue", "expected"), [
    (U("5.499999"), Level.PAYMENT_REQUIRED),  # profit 2.999999 < target
    (U("5.50"), Level.REDUCED_QUALITY),  # profit exactly 3.00: not below, band (1, 3]
    (U("5.500001"), Level.NORMAL),  # profit 3.000001 > band normal
])
def test_over_cutoff_user_at_target_profit_is_not_cut_off(revenue: int, expected: Level) -> None:
    assert level_of(U("2.50"), revenue, P) is expected


@pytest.mark.parametrize(("profit", "expected"), [
    (U("3.000001"), Level.NORMAL),
    (U("3.00"), Level.REDUCED_QUALITY),
    (U("1.000001"), Level.REDUCED_QUALITY),
    (U("1.00"), Level.BASIC_ONLY),
    (U("0.000001"), Level.BASIC_ONLY),
    (U("0.00"), Level.AFFILIATE_GATED),
    (U("-0.000001"), Level.AFFILIATE_GATED),
])
def test_profit_bands_are_strict_lower_bounds(profit: int, expected: Level) -> None:
    cost = U("1.00")  # above the free tier, below restriction
    assert level_of(cost, cost + profit, P) is expected


# A policy whose normal band is below the target, so the restriction rule shows.
LOOSE = P.with_changes({"levels.normal": "1.00", "levels.reduced_quality": "0.50"})


@pytest.mark.parametrize(("cost", "expected"), [
    (U("1.749999"), Level.NORMAL),
    (U("1.75"), Level.NORMAL),  # at restriction: not restricted
    (U("1.750001"), Level.REDUCED_QUALITY),  # above and below target: at least reduced
])
def test_restriction_caps_quality_only_above_it(cost: int, expected: Level) -> None:
    assert level_of(cost, cost + U("2.25"), LOOSE) is expected  # profit 2.25: band normal


def test_restriction_does_not_lift_a_more_restrictive_level() -> None:
    assert level_of(U("1.80"), U("1.80"), LOOSE) is Level.AFFILIATE_GATED  # profit 0


def test_restriction_spares_a_user_at_target() -> None:
    assert level_of(U("1.80"), U("4.80"), LOOSE) is Level.NORMAL  # profit exactly 3.00


# -- prompts at warning and free tier -------------------------------------------------------
@pytest.mark.parametrize(("est", "prompts"), [
    (U("0.499999"), ("premium_promotion",)),
    (U("0.50"), ("premium_promotion",)),  # projected 1.50 = warning: no upsell
    (U("0.500001"), ("upsell_tokens", "premium_promotion")),
])
def test_upsell_prompt_only_above_warning(est: int, prompts: tuple[str, ...]) -> None:
    d = decide(State(U("1.00"), U("4.00"), 100, 0), "simple_message", est, P, NOW)
    assert d.served and d.prompts == prompts


@pytest.mark.parametrize(("est", "prompts", "level"), [
    (U("0.499999"), (), Level.NORMAL),
    (U("0.50"), (), Level.NORMAL),  # projected exactly at the free tier
    (U("0.500001"), ("premium_promotion",), Level.REDUCED_QUALITY),  # profit 2.899999
])
def test_premium_prompt_only_above_free_tier(est: int, prompts: tuple, level: Level) -> None:
    d = decide(State(0, U("3.40"), 100, 0), "simple_message", est, P, NOW)
    assert (d.prompts, d.level) == (prompts, level)


def test_no_prompts_for_a_user_at_target() -> None:
    d = decide(State(U("1.60"), U("10.00"), 100, 0), "simple_message", U("0.10"), P, NOW)
    assert d.prompts == () and d.level is Level.NORMAL


def test_premium_user_gets_no_premium_promotion_but_still_the_upsell() -> None:
    d = decide(State(U("1.60"), U("4.00"), 0, 0, premium=True), "meal_plan", U("0.10"), P, NOW)
    assert d.prompts == ("upsell_tokens",)


# -- payment due at restore_payment -----------------------------------------------------------
@pytest.mark.parametrize(("revenue", "due"), [
    (U("0.000001"), U("5.00")),  # 3 - (0.000001 - 2.00) = 4.999999 < 5.00
    (U("0.00"), U("5.00")),  # exactly equal: 5.00
    (U("-0.000001"), U("5.000001")),  # a refund pushes the gap above restore_payment
])
def test_payment_due_is_the_larger_of_restore_payment_and_the_gap(revenue: int, due: int) -> None:
    d = decide(State(U("2.00"), revenue, 100, 0), "simple_message", U("0.01"), P, NOW)
    assert (d.reason, d.payment_due, d.cost, d.prompts) == ("payment_required", due, 0, ())


# -- affiliate unlock --------------------------------------------------------------------------
CLICK = datetime(2026, 3, 9, 12, 0)


@pytest.mark.parametrize(("now", "served"), [
    (CLICK, True),  # a click at the same instant counts
    (CLICK + timedelta(hours=24), True),  # exactly unlock_hours later: still unlocked
    (CLICK + timedelta(hours=24, microseconds=1), False),
])
def test_affiliate_click_unlocks_for_exactly_unlock_hours(now: datetime, served: bool) -> None:
    d = decide(State(U("0.60"), 0, 100, 0, last_affiliate_click=CLICK), "meal_plan",
               U("0.10"), P, now)
    assert d.served is served
    if served:  # unlocked: basic_only, at the basic factor (10% of 0.10)
        assert (d.level, d.cost, d.tokens_spent) == (Level.BASIC_ONLY, U("0.01"), 5)
    else:
        assert (d.level, d.reason, d.cost) == (Level.AFFILIATE_GATED, "affiliate_required",
                                               U("0.01"))


def test_aware_and_naive_instants_compare_as_utc() -> None:
    from datetime import UTC
    d = decide(State(U("0.60"), 0, 100, 0, last_affiliate_click=CLICK), "meal_plan", U("0.10"),
               P, (CLICK + timedelta(hours=24)).replace(tzinfo=UTC))
    assert d.served


def test_unlock_needs_now_when_a_click_is_set() -> None:
    with pytest.raises(ValueError, match="now"):
        decide(State(U("0.60"), 0, 100, 0, last_affiliate_click=CLICK), "meal_plan", U("0.1"), P)


def test_decide_without_now_works_when_no_click_matters() -> None:
    assert decide(State(0, 0, 100, 0), "meal_plan", U("0.10"), P).served


# -- tokens and premium -------------------------------------------------------------------------
def test_free_tokens_are_spent_before_paid_tokens() -> None:
    d = decide(State(0, 0, 3, 10), "meal_plan", U("0.01"), P, NOW)
    assert (d.tokens_spent, d.free_tokens_spent, d.paid_tokens_spent) == (5, 3, 2)


@pytest.mark.parametrize(("free", "paid", "served"), [(2, 2, False), (2, 3, True), (5, 0, True)])
def test_tokens_needed_exactly_available_is_served(free: int, paid: int, served: bool) -> None:
    d = decide(State(0, 0, free, paid), "meal_plan", U("0.01"), P, NOW)
    assert d.served is served
    if not served:
        assert (d.reason, d.cost, d.tokens_spent) == ("insufficient_tokens", 0, 0)


def test_an_unlisted_action_costs_the_default_tokens() -> None:
    assert decide(State(0, 0, 100, 0), "brand_new_action", U("0.01"), P, NOW).tokens_spent == 1


def test_premium_users_spend_no_tokens() -> None:
    d = decide(State(0, U("9.99"), 0, 0, premium=True), "meal_plan", U("0.30"), P, NOW)
    assert (d.served, d.tokens_spent, d.cost) == (True, 0, U("0.30"))


# -- system actions and the factor --------------------------------------------------------------
def test_system_action_is_served_at_full_cost_even_past_cutoff() -> None:
    d = decide(State(U("5.00"), 0, 0, 0), "error_handling", U("0.001"), P, NOW)
    assert (d.served, d.reason, d.cost, d.tokens_spent) == (True, "system", U("0.001"), 0)
    assert d.level is Level.PAYMENT_REQUIRED  # level_of(state.cost, state.revenue)


@pytest.mark.parametrize(("cost", "bp", "expected"), [
    (5, 1_000, 1),  # 0.5 micro-dollar rounds half up
    (4, 1_000, 0),
    (15, 1_000, 2),  # 1.5 -> 2
    (300_000, 5_000, 150_000),
    (3, 5_000, 2),
    (7, 0, 0),
    (7, 10_000, 7),
])
def test_cost_factor_rounds_half_up_in_micro_dollars(cost: int, bp: int, expected: int) -> None:
    assert apply_factor(cost, bp) == expected


def test_reduced_quality_request_costs_half() -> None:
    # cost 1.00, revenue 3.00 -> projected 1.20, profit 1.80 -> reduced_quality
    d = decide(State(U("1.00"), U("3.00"), 100, 0), "simple_message", U("0.200001"), P, NOW)
    assert (d.level, d.cost) == (Level.REDUCED_QUALITY, U("0.100001"))  # 100000.5 -> up
