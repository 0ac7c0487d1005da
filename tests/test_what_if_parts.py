"""The What-if page's seams: its state's pure parts and its charts, each without a running page.

The page as a whole is tests/test_what_if.py (AppTest) and tests/test_what_if_browser.py.
"""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from dashboard import what_if_charts as charts
from dashboard import what_if_state as state
from enforcement import load_policy

ROOT = Path(__file__).resolve().parent.parent
SEED = load_policy(ROOT / "enforcement" / "policies" / "seed-default.toml")


# -- the link ------------------------------------------------------------------------------
def test_share_params_carry_each_edit_as_text_and_an_upload_starts_from_the_seed() -> None:
    edits = {"thresholds.cutoff": Decimal("1.50"), "tokens.free_monthly": 60,
             "system.actions": ["error_handling", "health_check"]}
    params = state.share_params(edits, state.START_UPLOAD, ("2026-02", "2026-03"), "recorded")
    assert params == {"start": "seed", "from": "2026-02", "to": "2026-03",
                      "baseline": "recorded", "p.thresholds.cutoff": "1.50",
                      "p.tokens.free_monthly": "60",
                      "p.system.actions": "error_handling, health_check"}
    assert state.share_params({}, state.START_CURRENT, ("2026-03", "2026-03"),
                              "start")["start"] == "current"


def test_share_link_is_the_query_string() -> None:
    assert state.share_link({"from": "2026-03", "p.thresholds.cutoff": "1.50"}) == \
        "?from=2026-03&p.thresholds.cutoff=1.50"


def test_a_link_sets_known_fields_and_names_the_keys_it_ignores() -> None:
    params = {"from": "2026-03", "p.thresholds.free_tier": "0.25",
              "p.affiliate.unlock_hours": "48", "p.tokens.cost.meal_plan": "five",
              "p.no.such.key": "1"}
    values, unknown = state.link_values(SEED.to_flat(), params)
    # Money stays the typed text (the loader judges it); counts become ints.
    assert values == {"thresholds.free_tier": "0.25", "affiliate.unlock_hours": 48}
    assert unknown == ["tokens.cost.meal_plan", "no.such.key"]


def test_a_field_holds_an_int_for_counts_and_text_for_the_rest() -> None:
    assert state.widget_value("count", 100) == 100
    assert state.widget_value("factor", 5000) == 5000
    assert state.widget_value("money", Decimal("0.50")) == "0.50"
    assert state.widget_value("list", ["a", "b"]) == "a, b"


# -- policies in and out -------------------------------------------------------------------
def test_the_downloaded_text_reads_back_as_the_same_policy() -> None:
    edited = SEED.with_changes({"thresholds.cutoff": "2.40"})
    assert state.parse_policy_upload(state.policy_toml(edited)) == edited


def test_pasted_text_that_is_too_large_or_invalid_is_refused_with_a_reason() -> None:
    with pytest.raises(ValueError, match="more than 10 bytes"):
        state.parse_policy_upload("# " * 10, max_bytes=10)
    bad = state.policy_toml(SEED).replace('cutoff = "2.00"', 'cutoff = "1.00"')
    with pytest.raises(ValueError, match="thresholds.cutoff"):
        state.parse_policy_upload(bad)


# -- the charts ----------------------------------------------------------------------------
def _summary(**levels: int) -> dict:
    names = ("normal", "reduced_quality", "basic_only", "affiliate_gated", "payment_required")
    return {"users_by_level": {n: levels.get(n, 0) for n in names}}


def test_charts_import_no_streamlit() -> None:
    code = "import sys, dashboard.what_if_charts\nassert 'streamlit' not in sys.modules\n"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_levels_chart_puts_each_sides_users_under_its_level() -> None:
    fig = charts.levels_chart(_summary(normal=7, affiliate_gated=3),
                              _summary(normal=4, payment_required=6))
    bars = {t.name: dict(zip(t.x, t.y, strict=True)) for t in fig.data}
    assert bars["baseline"]["normal"] == 7 and bars["baseline"]["affiliate gated"] == 3
    assert bars["edited policy"]["normal"] == 4
    assert bars["edited policy"]["payment required"] == 6


def test_profit_chart_marks_the_target_and_draws_only_users_with_a_request() -> None:
    # Ends repeated, so that the 0.5% tails cut nothing here.
    base = pd.DataFrame({"requests": [1, 0, 2, 1],
                         "profit": [3_000_000, 99_000_000, -500_000, -500_000]})
    cand = pd.DataFrame({"requests": [1, 1, 1], "profit": [4_000_000, 4_000_000, 1_000_000]})
    fig = charts.profit_chart(base, cand, Decimal("3.00"))
    drawn = {t.name: sorted(t.x) for t in fig.data}
    assert drawn["baseline"] == [-0.5, -0.5, 3.0]  # the 99.00 user-month had no request
    assert drawn["edited policy"] == [1.0, 4.0, 4.0]
    (line,) = fig.layout.shapes
    assert (line.x0, line.x1) == (3.0, 3.0)
    assert fig.layout.annotations[0].text == "target $3.00"


def test_sweep_chart_leaves_out_refused_values_and_marks_the_current_one() -> None:
    result = pd.DataFrame({
        "value": [Decimal("1.00"), Decimal("2.00"), Decimal("2.50")],
        "error": ["thresholds.cutoff: must be >= thresholds.restriction", None, None],
        "users_at_target_pct": [None, Decimal("40.00"), Decimal("45.50")],
        "profit_usd": [None, Decimal("120.00"), Decimal("130.25")],
        "not_served": [None, 12, 9]})
    fig = charts.sweep_chart("thresholds.cutoff", "money", result, Decimal("2.00"))
    share, profit, refused = fig.data
    assert list(share.x) == [2.0, 2.5] and list(share.y) == [40.0, 45.5]
    assert list(profit.y) == [120.0, 130.25] and list(refused.y) == [12, 9]
    assert {s.x0 for s in fig.layout.shapes} == {2.0} and len(fig.layout.shapes) == 3
    assert fig.layout.title.text == "Sensitivity to thresholds.cutoff (USD)"
