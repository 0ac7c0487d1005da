"""Policies: the seed's numbers, validation that names the key, save/load, diff, flat edits."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from enforcement.levels import Level
from enforcement.policy import Policy, PolicyError, diff, load_policy, save_policy
from tests.enforcement_fixtures import SEED_POLICY, seed_policy


def test_seed_policy_holds_the_specs_numbers_in_micro_dollars() -> None:
    p = seed_policy()
    assert (p.name, p.timezone) == ("seed-default", "UTC")
    assert p.target == 3_000_000
    assert (p.free_tier, p.warning, p.restriction, p.cutoff) == (
        500_000, 1_500_000, 1_750_000, 2_000_000)
    assert p.restore_payment == 5_000_000
    assert (p.band_normal, p.band_reduced_quality, p.band_basic_only) == (3_000_000, 1_000_000, 0)
    assert p.factor_bp == (10_000, 5_000, 1_000, 1_000, 0)
    assert p.factor(Level.AFFILIATE_GATED) == 1_000
    assert (p.token_price, p.free_monthly, p.bonus_pct, p.bonus_min) == (50_000, 100, 20, 5_000_000)
    assert dict(p.token_cost) == {"simple_message": 1, "meal_plan": 5, "grocery_list": 2,
                                  "nutrition_analysis": 3, "recipe_search": 2,
                                  "dietary_advice": 4}
    assert p.tokens_for("meal_plan") == 5
    assert p.tokens_for("never_heard_of") == 1  # tokens.cost.default
    assert p.unlock_hours == 24
    assert p.system_actions == ("error_handling",)


def _errors(change: dict) -> list[tuple[str, str]]:
    with pytest.raises(PolicyError) as info:
        seed_policy().with_changes(change)
    return info.value.errors


@pytest.mark.parametrize(("change", "key", "fragment"), [
    ({"thresholds.surprise": "1.00"}, "thresholds.surprise", "unknown key"),
    ({"profit.target": "-0.01"}, "profit.target", "negative"),
    ({"tokens.bonus_min": "-5"}, "tokens.bonus_min", "negative"),
    ({"thresholds.warning": "0.49"}, "thresholds.warning", ">= thresholds.free_tier"),
    ({"thresholds.cutoff": "1.749999"}, "thresholds.cutoff", ">= thresholds.restriction"),
    ({"thresholds.restriction": "1.49"}, "thresholds.restriction", ">= thresholds.warning"),
    ({"levels.reduced_quality": "3.01"}, "levels.reduced_quality", "<= levels.normal"),
    ({"levels.basic_only": "1.000001"}, "levels.basic_only", "<= levels.reduced_quality"),
    ({"cost_factor_bp.normal": 10_001}, "cost_factor_bp.normal", "between 0 and 10000"),
    ({"cost_factor_bp.basic_only": -1}, "cost_factor_bp.basic_only", "negative"),
    ({"tokens.cost.meal_plan": 2.5}, "tokens.cost.meal_plan", "whole number"),
    ({"tokens.cost.default": "x"}, "tokens.cost.default", "whole number"),
    ({"timezone": "Mars/Olympus_Mons"}, "timezone", "unknown timezone"),
    ({"profit.target": 3.0}, "profit.target", "decimal string"),
    ({"profit.target": "3.0000001"}, "profit.target", "6 decimals"),
    ({"tokens.price": "0"}, "tokens.price", "more than 0"),
])
def test_a_wrong_policy_is_refused_with_a_message_naming_the_key(change, key, fragment) -> None:
    errors = _errors(change)
    assert any(k == key and fragment in msg for k, msg in errors), errors


def test_equal_thresholds_are_in_order() -> None:
    # free_tier <= warning <= restriction <= cutoff allows equality.
    p = seed_policy().with_changes({"thresholds.warning": "0.50", "thresholds.restriction": "0.50",
                                    "thresholds.cutoff": "0.50"})
    assert (p.free_tier, p.warning, p.restriction, p.cutoff) == (500_000,) * 4


def test_a_missing_key_is_named(tmp_path: Path) -> None:
    text = SEED_POLICY.read_text().replace('restore_payment = "5.00"', "")
    path = tmp_path / "p.toml"
    path.write_text(text)
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    assert ("thresholds.restore_payment", "missing key") in info.value.errors
    assert str(path) in str(info.value)


def test_an_unknown_table_key_in_the_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text(SEED_POLICY.read_text() + '\n[extra]\nthing = 1\n')
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    assert info.value.errors == [("extra", "unknown key")]


def test_saved_policy_loads_back_equal(tmp_path: Path) -> None:
    p = seed_policy().with_changes({"timezone": "Europe/Paris", "thresholds.cutoff": "2.123456",
                                    "tokens.cost.new_action": 7, "system.actions": ["a", "b"]})
    save_policy(p, tmp_path / "out.toml")
    back = load_policy(tmp_path / "out.toml")
    assert back == p
    assert back.cutoff == 2_123_456
    assert 'cutoff = "2.123456"' in (tmp_path / "out.toml").read_text()


def test_saved_seed_is_money_as_strings_with_two_decimals(tmp_path: Path) -> None:
    save_policy(seed_policy(), tmp_path / "s.toml")
    text = (tmp_path / "s.toml").read_text()
    assert 'target = "3.00"' in text and 'price = "0.05"' in text
    assert load_policy(tmp_path / "s.toml") == seed_policy()


def test_diff_lists_changed_keys_with_old_and_new_values() -> None:
    a = seed_policy()
    b = a.with_changes({"thresholds.cutoff": "2.50", "tokens.cost.meal_plan": 6,
                        "tokens.cost.new_action": 3, "name": "candidate"})
    assert diff(a, b) == [
        ("name", "seed-default", "candidate"),
        ("thresholds.cutoff", Decimal("2.00"), Decimal("2.50")),
        ("tokens.cost.meal_plan", 5, 6),
        ("tokens.cost.new_action", None, 3),
    ]
    assert diff(a, a) == []


def test_flat_form_round_trips_and_with_changes_revalidates() -> None:
    p = seed_policy()
    flat = p.to_flat()
    assert flat["thresholds.cutoff"] == Decimal("2.00")
    assert flat["cost_factor_bp.payment_required"] == 0
    assert Policy.from_flat(flat) == p
    assert p.with_changes({"tokens.cost.meal_plan": None}).tokens_for("meal_plan") == 1
    assert p.with_changes({"tokens.free_monthly": "50"}).free_monthly == 50
    assert hash(p) == hash(Policy.from_flat(flat))  # usable as a cache key
