"""Each alert rule fires on a small history with its value worked out by hand.

The history (tests/alerts_fixtures.py), judged at 15 March 2026 10:00 UTC with the seed
policy (cutoff $2.00, profit target $3.00):
- March to date: U1 $2.50 cost, U2 13 × $0.04 = $0.52 and $10.00 revenue, U3 $0.20 and
  $4.00, U4 $2.10, U5 $2.00; revenue $14.00, cost $7.32.
- February: P1 and P2, each $0.10 cost and $5.00 revenue.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from alerts.check import evaluate, parse_now
from core import settings
from loaders.pipeline import Chunk, LoadError, load
from tests.alerts_fixtures import HISTORY_COSTS, HISTORY_REVENUE, NOW, write_alert_secrets


@pytest.fixture
def history(make_db, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PROFIT_SECRETS", str(write_alert_secrets(tmp_path)))
    monkeypatch.setenv("PROFIT_TIMEZONE", "UTC")
    monkeypatch.delenv("PROFIT_POLICY", raising=False)
    monkeypatch.delenv("PROFIT_ALERTS_STATE", raising=False)
    return make_db(costs=HISTORY_COSTS, revenue=HISTORY_REVENUE)


def observed(db: Path, now: str = NOW) -> dict[tuple[str, str], object]:
    observations, _ = evaluate(db, parse_now(now), settings.alerts(db))
    return {(o.rule, o.key): o for o in observations}


def test_users_over_the_cutoff_without_payment_count_strictly_over_it(history: Path) -> None:
    # U1 ($2.50) and U4 ($2.10) are over $2.00 with no revenue; U5 is exactly at $2.00.
    o = observed(history)[("users_over_cutoff_unpaid", "users")]
    assert (o.firing, o.period, o.value, o.threshold) == (True, "2026-03", 2, 1)
    assert o.message == ("2 users over the $2.00 cutoff with no payment, March 2026 to date")


def test_events_after_now_are_not_counted(history: Path) -> None:
    # U1 pays $5.00 at 11:00 and U4 at 11:30: at 12:00 nobody is over the cutoff unpaid.
    o = observed(history, "2026-03-15T12:00:00")[("users_over_cutoff_unpaid", "users")]
    assert (o.firing, o.value) == (False, 0)


def test_share_at_target_is_judged_against_the_month_2_target(history: Path) -> None:
    # 2 of 5 users (U2 $9.48, U3 $3.80) have at least $3.00 of profit: 40%. February is the
    # first month with data, so March is month 2 and the target is 95%.
    o = observed(history)[("users_at_target_below_target", "target")]
    assert (o.firing, o.value, o.threshold) == (True, 40.0, 95.0)
    assert o.message == ("Users at target, March 2026 to date: 40.0% "
                         "(target: at least 95%)")


def test_share_at_target_is_judged_against_the_same_point_last_month(history: Path) -> None:
    # At 15 February 10:00 both February users were at target: 100%.
    o = observed(history)[("users_at_target_below_target", "pace")]
    assert (o.firing, o.value, o.threshold) == (True, 40.0, 100.0)
    assert "100.0% at the same point of February 2026" in o.message


def test_pace_takes_the_last_day_of_a_shorter_month() -> None:
    from alerts.rules import same_point_last_month

    then = same_point_last_month(datetime(2026, 3, 31, 10, tzinfo=UTC))
    assert then == datetime(2026, 2, 28, 10, tzinfo=UTC)


def test_cost_per_user_spike_on_the_last_complete_day(history: Path) -> None:
    # 14 March: $2.70 over 2 users = $1.35; the 15 days with users before it are 13 × $0.04
    # and 2 × $0.10, median $0.04, so the line is 2 × $0.04 = $0.08 and 1.35 is 33.75×.
    o = observed(history)[("cost_per_user_spike", "cost_per_user")]
    assert (o.firing, o.period, o.value, o.threshold) == (True, "2026-03-14", "1.35", "0.08")
    assert o.message == ("Cost per user on 2026-03-14: $1.3500, 33.8× the usual $0.0400 "
                         "(median of the 28 days before)")


def test_margin_month_to_date_below_its_target(history: Path) -> None:
    # 100 × (14.00 − 7.32) / 14.00 = 47.714…% against at least 90%.
    o = observed(history)[("margin_below_target", "margin_pct")]
    assert (o.firing, o.period, o.value, o.threshold) == (True, "2026-03", 47.71, 90.0)
    assert o.message == ("Margin, March 2026 to date: 47.7% (target: at least 90%); "
                         "profit $6.68 on revenue $14.00")


def test_a_target_in_the_settings_replaces_the_default_in_the_alert(
        history: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_alert_secrets(tmp_path, extra='[targets]\nmargin_pct = "45"\n',
                               name="targets.toml")
    monkeypatch.setenv("PROFIT_SECRETS", str(path))
    o = observed(history)[("margin_below_target", "margin_pct")]
    assert (o.firing, o.threshold) == (False, 45.0)


def test_data_is_stale_after_exactly_stale_hours(history: Path) -> None:
    # The newest cost event is 15 March 08:00: 5 h 59 min later is fresh, 6 h is stale.
    fresh = observed(history, "2026-03-15T13:59:00")[("data_stale", "cost_events")]
    stale = observed(history, "2026-03-15T14:00:00")[("data_stale", "cost_events")]
    assert (fresh.firing, fresh.value) == (False, 5.98)
    assert (stale.firing, stale.period, stale.value, stale.threshold) == \
        (True, "2026-03-15", 6.0, 6.0)


def test_stale_hours_and_enabled_come_from_the_settings(
        history: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    extra = ("[alerts.data_stale]\nstale_hours = 1.5\n"
             "[alerts.margin_below_target]\nenabled = false\n")
    monkeypatch.setenv("PROFIT_SECRETS", str(write_alert_secrets(tmp_path, extra=extra,
                                                                 name="rules.toml")))
    found = observed(history)  # 2 h after the newest event
    assert found[("data_stale", "cost_events")].firing is True
    assert found[("data_stale", "cost_events")].threshold == 1.5
    assert ("margin_below_target", "margin_pct") not in found


def test_an_unknown_rule_setting_is_refused_by_name(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    extra = "[alerts.data_stale]\nstale_hour = 3\n"
    monkeypatch.setenv("PROFIT_SECRETS", str(write_alert_secrets(tmp_path, extra=extra)))
    with pytest.raises(ValueError, match=r"\[alerts.data_stale\] has no setting stale_hour"):
        settings.alerts()


def _broken(message: str):
    yield Chunk(frames={})
    raise RuntimeError(message)


def test_load_failed_fires_for_the_source_whose_last_load_failed(history: Path) -> None:
    with pytest.raises(LoadError):
        load(history, "files:broken.csv", _broken("disk full"))
    found = observed(history)
    failed = found[("load_failed", "files:broken.csv")]
    assert (failed.firing, failed.period, failed.value) == (True, "2026-03-15", 2)
    assert failed.message.startswith("The last load of files:broken.csv failed at ")
    assert failed.message.endswith(": RuntimeError: disk full")
    assert found[("load_failed", "test")].firing is False  # the history's own load is ok


def test_load_failed_clears_when_the_next_load_of_that_source_succeeds(
        history: Path) -> None:
    with pytest.raises(LoadError):
        load(history, "files:broken.csv", _broken("disk full"))
    load(history, "files:broken.csv", [Chunk(frames={})])
    o = observed(history)[("load_failed", "files:broken.csv")]
    assert (o.firing, o.value) == (False, 3)
