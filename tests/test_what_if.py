"""The What-if page (issue 5): the panel agrees with the CLI, keeps edits, refuses bad files.

AppTest runs pages/what_if.py against the 400-user demo (3 months to 2026-03); the pure
figures (enforcement/whatif.py) are pinned on small hand-built histories.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from enforcement import load_policy, save_policy, whatif
from enforcement.decide import State
from enforcement.fast_replay import replay_fast
from enforcement.levels import LEVELS
from enforcement.policy import Policy
from enforcement.replay import History, replay_plain, to_us

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "pages" / "what_if.py"
SEED = ROOT / "enforcement" / "policies" / "seed-default.toml"
MONTH = "2026-03"
PAY = "Refused: payment"


@pytest.fixture
def page(demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A fresh What-if page on the demo business, no secrets, the seed as current policy."""
    monkeypatch.setenv("PROFIT_DB", str(demo_db))
    monkeypatch.setenv("PROFIT_SECRETS", str(tmp_path / "no-secrets.toml"))
    monkeypatch.delenv("PROFIT_POLICY", raising=False)

    def make(**query: str) -> AppTest:
        at = AppTest.from_file(str(PAGE), default_timeout=120)
        at.query_params.update({"from": MONTH, "to": MONTH, **query})
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        return at

    return make


def cli_replay(db: Path, policy: Path) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "enforcement", "replay", "--db", str(db), "--policy",
         str(policy), "--start", MONTH, "--end", MONTH, "--format", "json"],
        cwd=ROOT, check=True, capture_output=True, text=True)
    return json.loads(out.stdout)["total"]


def metric(at: AppTest, label: str):
    found = [m for m in at.metric if m.label == label]
    assert found, f"no metric {label!r}"
    return found[0]


def count(text: str) -> int:
    return int(text.replace(",", "").replace("+", ""))


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


# -- the panel against the command line ------------------------------------------------------
def test_lowering_the_cutoff_raises_payment_refusals_by_what_the_cli_reports(
        page, demo_db: Path, tmp_path: Path) -> None:
    # The demo's users are gated at the affiliate level long before $2.00, so the start
    # brings warning and restriction down to $0.55/$0.60 (uploaded), and the edit then
    # lowers the cutoff from $2.00 to $0.60.
    start = load_policy(SEED).with_changes({"thresholds.warning": "0.55",
                                            "thresholds.restriction": "0.60"})
    start_file = tmp_path / "start.toml"
    save_policy(start, start_file)
    at = page()
    at.file_uploader(key="wi_upload_file").upload(
        "start.toml", start_file.read_bytes(), "application/toml").run()
    assert at.radio(key="wi_start").value == "upload"
    at.text_input(key="wi_k:thresholds.cutoff").set_value("0.60").run()
    assert not at.exception and not errors(at)

    edited_file = tmp_path / "edited.toml"
    save_policy(start.with_changes({"thresholds.cutoff": "0.60"}), edited_file)
    before = cli_replay(demo_db, start_file)["not_served"]["payment_required"]
    after = cli_replay(demo_db, edited_file)["not_served"]["payment_required"]
    shown = metric(at, PAY)
    assert after > before  # the demo does refuse more at $0.60
    assert count(shown.value) == after
    assert count(shown.delta) == after - before


def test_every_figure_equals_the_cli_for_the_edited_policy(page, demo_db: Path,
                                                           tmp_path: Path) -> None:
    at = page()
    at.text_input(key="wi_k:thresholds.free_tier").set_value("0.25").run()
    edited_file = tmp_path / "edited.toml"
    save_policy(load_policy(SEED).with_changes({"thresholds.free_tier": "0.25"}), edited_file)
    cli = cli_replay(demo_db, edited_file)
    assert count(metric(at, "Users at target").value) == cli["users_at_target"]
    assert metric(at, "Share at target").value == f"{cli['users_at_target_pct']:.2f}%"
    assert metric(at, "Total profit").value == f"${Decimal(cli['profit_usd']):,.2f}"
    assert count(metric(at, "Refused: affiliate").value) == \
        cli["not_served"]["affiliate_required"]


# -- keeping the result ------------------------------------------------------------------------
def test_download_is_the_edited_policy(page, monkeypatch: pytest.MonkeyPatch) -> None:
    stored: list[tuple[bytes, str | None]] = []
    original = MemoryMediaFileStorage.load_and_get_id

    def record(self, data, mimetype, kind, filename=None):  # what the button will serve
        stored.append((data, filename))
        return original(self, data, mimetype, kind, filename)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", record)
    at = page()
    at.text_input(key="wi_k:thresholds.cutoff").set_value("2.40").run()
    at.number_input(key="wi_k:tokens.free_monthly").set_value(60).run()
    at.text_input(key="wi_k:system.actions").set_value("error_handling, health_check").run()
    stored.clear()
    at.run()

    downloads = [data for data, name in stored if name and name.endswith(".toml")]
    assert len(downloads) == 1
    got = Policy.from_dict(tomllib.loads(downloads[0].decode("utf-8")))
    expected = load_policy(SEED).with_changes({
        "thresholds.cutoff": "2.40", "tokens.free_monthly": 60,
        "system.actions": ["error_handling", "health_check"]})
    assert got == expected
    # The diff beside it lists exactly the three changed keys.
    diff_table = [d for d in at.dataframe if "Key" in d.value.columns][0].value
    assert list(diff_table["Key"]) == ["thresholds.cutoff", "tokens.free_monthly",
                                       "system.actions"]


def test_share_link_carries_the_changed_keys_and_is_read_back(page) -> None:
    at = page()
    at.text_input(key="wi_k:thresholds.free_tier").set_value("0.25").run()
    assert at.query_params["p.thresholds.free_tier"] in ("0.25", ["0.25"])
    assert not any(k.startswith("p.") and k != "p.thresholds.free_tier"
                   for k in at.query_params)

    opened = page(**{"p.thresholds.free_tier": "0.25", "p.affiliate.unlock_hours": "48"})
    assert opened.text_input(key="wi_k:thresholds.free_tier").value == "0.25"
    assert opened.number_input(key="wi_k:affiliate.unlock_hours").value == 48
    assert any("2 key(s) changed" in c.value for c in opened.caption)


# -- refusing bad input --------------------------------------------------------------------------
def test_bad_uploaded_file_shows_its_error_and_changes_nothing(page) -> None:
    at = page()
    before = [(m.label, m.value, m.delta) for m in at.metric]
    params_before = dict(at.query_params)

    at.file_uploader(key="wi_upload_file").upload(
        "broken.toml", b"[thresholds\ncutoff = 1.5", "application/toml").run()
    assert any("broken.toml" in e and "not valid TOML" in e for e in errors(at))

    wrong_order = SEED.read_bytes().replace(b'cutoff = "2.00"', b'cutoff = "1.00"')
    at.file_uploader(key="wi_upload_file").clear().upload(
        "wrong.toml", wrong_order, "application/toml").run()
    assert any("wrong.toml" in e and "thresholds.cutoff" in e and "must be >=" in e
               for e in errors(at))

    at.file_uploader(key="wi_upload_file").clear().upload(
        "huge.toml", b"#" * 100_000, "application/toml").run()
    assert any("huge.toml" in e and "at most" in e for e in errors(at))

    assert at.radio(key="wi_start").value == "seed"
    assert "Uploaded policy file" not in at.radio(key="wi_start").options
    assert [(m.label, m.value, m.delta) for m in at.metric] == before
    assert dict(at.query_params) == params_before
    assert at.text_input(key="wi_k:thresholds.cutoff").value == "2.00"


def test_refused_edit_shows_the_loader_message_and_keeps_the_last_valid_result(page) -> None:
    at = page()
    at.text_input(key="wi_k:thresholds.free_tier").set_value("0.25").run()
    valid = [(m.label, m.value, m.delta) for m in at.metric]
    at.text_input(key="wi_k:thresholds.cutoff").set_value("1.00").run()
    assert "must be >= thresholds.restriction (1.75), got 1.00" in errors(at)
    assert [(m.label, m.value, m.delta) for m in at.metric] == valid
    at.text_input(key="wi_k:thresholds.cutoff").set_value("two dollars").run()
    assert any("not an amount" in e for e in errors(at))
    assert [(m.label, m.value, m.delta) for m in at.metric] == valid


def test_sweep_and_probe_render_in_the_page(page) -> None:
    at = page()
    at.number_input(key="wi_sweep_steps").set_value(5).run()
    at.button(key="wi_sweep_go").click().run()
    assert not at.exception, [e.value for e in at.exception]
    # 5 steps over the default 1.75..3.00 miss the current 2.00, which is added: 6 values.
    assert any("6 values replayed" in c.value for c in at.caption)
    at.text_input(key="wi_probe_digits").set_value("1").run()
    probe = [d for d in at.dataframe if "Starting policy" in d.value.columns]
    assert probe and list(probe[0].value.columns) == ["Starting policy", "Edited policy"]


def test_recorded_baseline_shows_history_and_says_what_it_did_not_record(page) -> None:
    at = page()
    at.radio(key="wi_base").set_value("recorded").run()
    assert not at.exception
    table = [d for d in at.dataframe if "Figure" in d.value.columns][0].value.set_index("Figure")
    assert table.loc["Served", "Baseline"] == "not recorded"
    assert table.loc["Not served: payment required", "Change"] == "–"
    assert table.loc["Requests", "Baseline"] == table.loc["Requests", "Edited policy"]


def test_a_month_carried_from_another_page_is_the_default_period(page) -> None:
    at = AppTest.from_file(str(PAGE), default_timeout=120)
    at.query_params["month"] = "2026-02"
    at.run()
    assert at.select_slider(key="wi_months").value == ("2026-02", "2026-02")


# -- the pure figures ------------------------------------------------------------------------------
def _at(day: int, hour: int) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=UTC)


def _history() -> History:
    # The spec's worked example for +1, plus a second user who only spends.
    return History.from_rows(
        requests=[("c1", "+1", _at(1, 9), "meal_plan", "0.30"),
                  ("c2", "+1", _at(1, 10), "meal_plan", "0.30"),
                  ("c3", "+1", _at(2, 9), "meal_plan", "0.30"),
                  ("c4", "+1", _at(3, 9), "simple_message", "1.40"),
                  ("c5", "+1", _at(3, 10), "simple_message", "0.02"),
                  ("c6", "+2", _at(1, 9), "meal_plan", "0.40"),
                  ("c7", "+2", _at(2, 9), "meal_plan", "0.40")],
        revenue=[("r1", "+1", _at(2, 8), "tokens", "5.00", 120)],
    )


def test_month_to_date_is_the_replayed_position_before_now() -> None:
    policy = load_policy(SEED)
    history = _history()
    # Before 03-03 09:00 the worked example has cost 0.63, revenue 5.00, 90 free + 120 paid.
    state = whatif.month_to_date(history, "+1", to_us(_at(3, 9)), policy)
    assert state == State(cost=630_000, revenue=5_000_000, free_tokens=90, paid_tokens=120)
    # After everything, cost and revenue are the replay's month-end row.
    end = whatif.month_to_date(history, "+1", to_us(_at(31, 23)), policy)
    row = replay_plain(history, policy, MONTH, MONTH).table.set_index("user_id").loc["+1"]
    assert (end.cost, end.revenue) == (row["cost"], row["revenue"]) == (650_000, 5_000_000)


def test_recorded_baseline_is_history_unchanged() -> None:
    policy = load_policy(SEED)
    rec = whatif.recorded(_history(), policy, MONTH, MONTH)
    # Every recorded cost counts: 0.30*3 + 1.40 + 0.02 + 0.40*2 = 3.12; revenue 5.00.
    assert rec.total["cost_usd"] == Decimal("3.12")
    assert rec.total["revenue_usd"] == Decimal("5.00")
    assert rec.total["requests"] == 7
    # +1: profit 5.00 - 2.32 = 2.68 < 3 and cost 2.32 > cutoff -> payment_required.
    assert rec.total["users_by_level"]["payment_required"] == 1
    rows = whatif.comparison(rec.total, rec.total, base_recorded=True)
    served = next(r for r in rows if r.label == "Served")
    assert served.baseline is None and served.change is None


def test_sweep_step_equals_a_full_replay_with_that_value() -> None:
    policy = load_policy(SEED)
    history = _history()
    values = whatif.sweep_values("0.20", "0.60", 5, "money")
    assert values == [Decimal("0.20"), Decimal("0.30"), Decimal("0.40"), Decimal("0.50"),
                      Decimal("0.60")]
    result = whatif.sweep(history, policy, "thresholds.free_tier", values, MONTH, MONTH)
    for value, row in zip(values, result.itertuples(), strict=True):
        full = replay_plain(history, policy.with_changes({"thresholds.free_tier": value}),
                            MONTH, MONTH).total
        assert row.profit_usd == full["profit_usd"]
        assert row.not_served == sum(full["not_served"].values())
        assert row.users_at_target == full["users_at_target"]


def test_sweep_value_the_loader_refuses_is_reported_not_replayed() -> None:
    result = whatif.sweep(_history(), load_policy(SEED), "thresholds.cutoff",
                          [Decimal("1.00"), Decimal("2.00")], MONTH, MONTH)
    assert "must be >= thresholds.restriction" in result.loc[0, "error"]
    assert result.loc[0, "profit_usd"] is None
    assert pd.isna(result.loc[1, "error"])


def test_sweep_values_are_exact_and_whole_cents() -> None:
    assert whatif.sweep_values("1.00", "2.00", 4, "money") == [
        Decimal("1.00"), Decimal("1.33"), Decimal("1.67"), Decimal("2.00")]
    assert whatif.sweep_values(0, 10, 3, "count") == [0, 5, 10]


def test_sweep_passes_through_the_current_value() -> None:
    values = whatif.sweep_values("1.75", "3.00", 5, "money")
    assert values == [Decimal(v) for v in ("1.75", "2.06", "2.38", "2.69", "3.00")]
    assert whatif.with_current(values, Decimal("2.00"), "money")[1] == Decimal("2.00")
    assert whatif.with_current(values, Decimal("5.00"), "money") == values
    # The default range never starts where the loader refuses (cutoff >= restriction).
    assert whatif.default_range(load_policy(SEED), "thresholds.cutoff") == (
        Decimal("1.75"), Decimal("3.00"))


def _free_tier_edit(engine):  # noqa: ANN001, ANN202 - replay_plain or replay_fast
    """The seed policy and its free tier cut to $0.10, replayed over the month by `engine`."""
    policy = load_policy(SEED)
    history = _history()
    return (engine(history, policy, MONTH, MONTH),
            engine(history, policy.with_changes({"thresholds.free_tier": "0.10"}), MONTH, MONTH))


def test_who_changes_puts_level_shifts_before_profit_moves() -> None:
    base, cand = _free_tier_edit(replay_plain)
    movers = whatif.who_changes(base.table, cand.table)
    assert not movers.empty
    rank = {"normal": 0, "reduced_quality": 1, "basic_only": 2, "affiliate_gated": 3,
            "payment_required": 4}
    shifts = [abs(rank[a] - rank[b]) for a, b in zip(movers["level_before"],
                                                     movers["level_after"], strict=True)]
    assert shifts == sorted(shifts, reverse=True)
    assert all(isinstance(v, Decimal) for v in movers["profit_change"])


def test_who_changes_reads_the_same_from_ranks_names_and_unaligned_tables() -> None:
    """The tables' levels are a Categorical whose codes are the ranks; names say the same."""
    base, cand = _free_tier_edit(replay_fast)
    assert list(base.table["level"].cat.categories) == [lv.value for lv in LEVELS]
    from_ranks = whatif.who_changes(base.table, cand.table)
    as_names = [t.table.assign(level=t.table["level"].astype(object)) for t in (base, cand)]
    from_names = whatif.who_changes(*as_names)
    # The candidate in another order is not aligned: it goes through the merge.
    unaligned = whatif.who_changes(base.table, cand.table.iloc[::-1].reset_index(drop=True))
    assert len(from_ranks) > 1
    pd.testing.assert_frame_equal(from_ranks, from_names)
    pd.testing.assert_frame_equal(from_ranks, unaligned)
