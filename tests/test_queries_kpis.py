"""Every KPI of kpis.md at every grain, on hand-built data (tests/kpi_fixtures.py).

Each test on `march` or `year_end` runs on both engines (the `engine` fixture): DuckDB on
the database, and Spark on the database exported to a lake (the same SQL, transpiled).

Seed policy: target 3.00, free_tier 0.50, restriction 1.75, cutoff 2.00, bands 3/1/0.
Expected values are worked out by hand in the comments.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from loaders.publish import connect_read_only
from queries import kpis as K
from tests import kpi_fixtures as fx

ROOT = Path(__file__).resolve().parent.parent
PARIS = "Europe/Paris"
D = Decimal


@pytest.fixture
def march(make_db, engine) -> duckdb.DuckDBPyConnection:
    con = engine(make_db(costs=fx.MARCH_COSTS, revenue=fx.MARCH_REVENUE))
    yield con
    con.close()


@pytest.fixture
def march_duckdb(make_db) -> duckdb.DuckDBPyConnection:
    """DuckDB only: for the tests that compare a series with 36 days of kpis() calls (the
    engines' series agree in tests/test_spark_engine.py)."""
    con = connect_read_only(make_db(costs=fx.MARCH_COSTS, revenue=fx.MARCH_REVENUE))
    yield con
    con.close()


@pytest.fixture
def year_end(make_db, engine) -> duckdb.DuckDBPyConnection:
    con = engine(make_db(costs=fx.YEAR_END_COSTS, revenue=fx.YEAR_END_REVENUE,
                         name="year_end.duckdb"))
    yield con
    con.close()


def levels(normal=0, reduced=0, basic=0, gated=0, payment=0) -> dict:
    return {"normal": normal, "reduced_quality": reduced, "basic_only": basic,
            "affiliate_gated": gated, "payment_required": payment}


def streams(tokens="0", premium="0", affiliate="0", data="0", other="0") -> dict:
    return {"tokens": D(tokens), "premium": D(premium), "affiliate": D(affiliate),
            "data": D(data), "other": D(other)}


def assert_figures(got: dict, expected: dict) -> None:
    for key, value in expected.items():
        if isinstance(value, float):
            assert got[key] == pytest.approx(value, abs=1e-9), key
        else:
            assert got[key] == value, key


# -- periods --------------------------------------------------------------------------------

def test_period_bounds_of_a_day_in_utc_plus_one_start_at_local_midnight():
    start, end, label = K.period_bounds("day", "2026-03-15", PARIS)
    assert (start.isoformat(), end.isoformat()) == (
        "2026-03-15T00:00:00+01:00", "2026-03-16T00:00:00+01:00")
    assert label == "Sun 15 Mar 2026"


def test_iso_week_53_of_2026_runs_into_january_2027():
    start, end, _ = K.period_bounds("week", "2026-W53", "UTC")
    assert (start.date(), end.date()) == (date(2026, 12, 28), date(2027, 1, 4))
    assert K.period_name("week", date(2027, 1, 3)) == "2026-W53"
    assert K.period_name("week", date(2027, 1, 4)) == "2027-W01"
    assert K.shift_period("week", "2026-W53", 1) == "2027-W01"


def test_week_53_of_a_year_without_one_is_refused():
    with pytest.raises(ValueError, match="no such week: '2025-W53'"):
        K.period_bounds("week", "2025-W53", "UTC")


@pytest.mark.parametrize(("grain", "period"), [
    ("day", "2026-3-14"), ("day", "2026-02-30"), ("day", "2026-W11"), ("week", "2026-W1"),
    ("week", "2026-11"), ("week", "2026-W00"), ("month", "2026-13"), ("month", "2026-03-01"),
    ("year", "2026"),
])
def test_malformed_period_is_a_value_error(grain, period):
    with pytest.raises(ValueError):
        K.period_bounds(grain, period, "UTC")


def test_month_bounds_follow_the_summer_time_change():
    # March 2026 in Paris: 1 Mar 00:00 +01 to 1 Apr 00:00 +02
    p = K.make_period("month", "2026-03", PARIS)
    assert p.utc() == (K.datetime(2026, 2, 28, 23), K.datetime(2026, 3, 31, 22))


def test_previous_month_of_january_is_december():
    assert K.previous_period("month", "2026-01") == "2025-12"
    assert K.previous_period("day", "2026-03-01") == "2026-02-28"


# -- DuckDB's timezone conversion --------------------------------------------------------

def test_duckdb_converts_2330_utc_to_the_next_day_in_utc_plus_one_whatever_the_session_tz():
    con = duckdb.connect()
    con.execute("SET TimeZone = 'Asia/Tokyo'")  # the session's own zone must not matter
    local = con.execute(
        "SELECT timezone($tz, TIMESTAMP '2026-03-14 23:30:00' AT TIME ZONE 'UTC')",
        {"tz": PARIS}).fetchone()[0]
    assert local == K.datetime(2026, 3, 15, 0, 30)


# -- one day ------------------------------------------------------------------------------

def test_day_in_utc(march):
    # 15 Mar UTC: counted cost A 0.01 + B 0.02 = 0.03 (B's 0.50 estimate is not counted; A's
    # 0.08 is on the 14th). Active A, B; neither new (A's first event was the 14th, B's Feb).
    # Revenue 5.00 - 1.00 (refund) + 2.00 + 1.25 (C, no cost) = 7.25; profit 7.22;
    # margin 100 * 7.22 / 7.25 = 99.5862...; per user 0.015 / 3.625 / 3.61.
    # Paying: A (4.00), B (2.00) -> 2 of 2; token buyers: A -> 1 of 2.
    # MTD 1-15 Mar: A 0.09 cost, 4.00 rev (profit 3.91 >= 3: at target, cost <= 0.50: normal),
    # B 0.02/2.00 (1.98, normal), E 2.10/0 (over cutoff, below: payment_required),
    # F 0.60/1.00 (0.40: basic_only) -> 1 of 4 at target = 25%.
    k = K.kpis(march, "day", "2026-03-15", "UTC")
    assert_figures(k, {
        "active_users": 2, "new_users": 0, "cost_usd": D("0.03"), "revenue_usd": D("7.25"),
        "revenue_by_stream": streams(tokens="4", premium="2", affiliate="1.25"),
        "profit_usd": D("7.22"), "margin_pct": 100 * 7.22 / 7.25,
        "cost_per_user": D("0.015"), "revenue_per_user": D("3.625"),
        "profit_per_user": D("3.61"), "paying_users": 2, "payment_conversion_pct": 100.0,
        "token_buyers": 1, "token_purchase_rate_pct": 50.0, "users_at_target": 1,
        "users_at_target_pct": 25.0, "mtd_users": 4,
        "users_by_level": levels(normal=2, basic=1, payment=1),
        "cost_by_action": {"simple_message": D("0.03")},
        "cost_by_category": {"unknown": D("0.02"), "messaging": D("0.01")},
        "retention_pct": None,
    })


def test_event_at_2330_utc_belongs_to_the_next_day_in_utc_plus_one(march):
    # 15 Mar in Paris is 14 Mar 23:00 - 15 Mar 23:00 UTC: A's 0.08 at 23:30 UTC joins it.
    # Cost 0.11, revenue 7.25, profit 7.14, margin 98.4827...; A is new (first event is
    # 00:30 on the 15th local). Per user 0.055 / 3.625 / 3.57.
    k = K.kpis(march, "day", "2026-03-15", PARIS)
    assert_figures(k, {
        "active_users": 2, "new_users": 1, "cost_usd": D("0.11"), "revenue_usd": D("7.25"),
        "profit_usd": D("7.14"), "margin_pct": 100 * 7.14 / 7.25,
        "cost_per_user": D("0.055"), "profit_per_user": D("3.57"),
        "cost_by_action": {"meal_plan": D("0.08"), "simple_message": D("0.03")},
        "cost_by_category": {"ai": D("0.08"), "unknown": D("0.02"), "messaging": D("0.01")},
        "users_at_target": 1, "users_at_target_pct": 25.0,
    })
    # ...and leaves the 14th in Paris with no active user, while the 14th in UTC has A.
    paris_14 = K.kpis(march, "day", "2026-03-14", PARIS)
    utc_14 = K.kpis(march, "day", "2026-03-14", "UTC")
    assert (paris_14["active_users"], paris_14["cost_usd"]) == (0, D("0"))
    assert (utc_14["active_users"], utc_14["new_users"], utc_14["cost_usd"]) == (1, 1, D("0.08"))


def test_day_without_revenue_has_null_margin_and_zero_conversion(march):
    # 14 Mar UTC: A's 0.08, no revenue. MTD 1-14: A (-0.08), E, F -> 0 of 3 at target.
    k = K.kpis(march, "day", "2026-03-14", "UTC")
    assert_figures(k, {
        "revenue_usd": D("0"), "profit_usd": D("-0.08"), "margin_pct": None,
        "payment_conversion_pct": 0.0, "users_at_target": 0, "users_at_target_pct": 0.0,
        "mtd_users": 3, "users_by_level": levels(normal=1, basic=1, payment=1),
    })


def test_empty_period_gives_zeros_and_nulls_and_every_key(march):
    k = K.kpis(march, "day", "2030-01-01", "UTC")
    assert set(K.KPI_NAMES) <= set(k)
    assert_figures(k, {
        "active_users": 0, "new_users": 0, "cost_usd": D("0"), "revenue_usd": D("0"),
        "revenue_by_stream": streams(), "profit_usd": D("0"), "margin_pct": None,
        "cost_per_user": None, "revenue_per_user": None, "profit_per_user": None,
        "paying_users": 0, "payment_conversion_pct": None, "token_buyers": 0,
        "token_purchase_rate_pct": None, "users_at_target": 0, "users_at_target_pct": None,
        "users_by_level": levels(), "cost_by_action": {}, "cost_by_category": {},
        "retention_pct": None,
    })


# -- one ISO week --------------------------------------------------------------------------

def test_week_in_utc(march):
    # 2026-W11 = Mon 9 - Sun 15 Mar. Cost E 2.10 + F 0.60 + A 0.08 + A 0.01 + B 0.02 = 2.81;
    # active A, B, E, F; new A, E, F (B was active in Feb) = 3.
    # Revenue F 1.00 (data) + 7.25 = 8.25; profit 5.44; margin 65.9393...
    # Per user 0.7025 / 2.0625 / 1.36. Paying A, B, F = 3 of 4; token buyers A = 1 of 4.
    # MTD at the end of the week (1-15 Mar) as for the 15th: 1 of 4.
    k = K.kpis(march, "week", "2026-W11", "UTC")
    assert_figures(k, {
        "active_users": 4, "new_users": 3, "cost_usd": D("2.81"), "revenue_usd": D("8.25"),
        "revenue_by_stream": streams(tokens="4", premium="2", affiliate="1.25", data="1"),
        "profit_usd": D("5.44"), "margin_pct": 100 * 5.44 / 8.25,
        "cost_per_user": D("0.7025"), "revenue_per_user": D("2.0625"),
        "profit_per_user": D("1.36"), "paying_users": 3, "payment_conversion_pct": 75.0,
        "token_buyers": 1, "token_purchase_rate_pct": 25.0, "users_at_target": 1,
        "users_at_target_pct": 25.0, "users_by_level": levels(normal=2, basic=1, payment=1),
        "cost_by_action": {"dietary_advice": D("2.10"), "grocery_list": D("0.60"),
                           "meal_plan": D("0.08"), "simple_message": D("0.03")},
        "cost_by_category": {"external_api": D("2.10"), "database": D("0.60"),
                             "ai": D("0.08"), "unknown": D("0.02"), "messaging": D("0.01")},
        "retention_pct": None,
    })


def test_week_53_in_utc_takes_month_to_date_from_january(year_end):
    # 2026-W53 (28 Dec - 3 Jan) UTC: H 1.00 (31 Dec) + J 0.40 + H 0.05 (3 Jan 23:30) = 1.45;
    # active H, J, both new. Revenue J 5.00. Users at target: MTD from 1 Jan (the month of
    # the week's last day) to 3 Jan: H 0.05 / 0 (no), J 0.40 / 5.00 (4.60, yes) -> 1 of 2.
    k = K.kpis(year_end, "week", "2026-W53", "UTC")
    assert_figures(k, {
        "active_users": 2, "new_users": 2, "cost_usd": D("1.45"), "revenue_usd": D("5"),
        "users_at_target": 1, "users_at_target_pct": 50.0, "mtd_users": 2,
        "token_buyers": 1, "token_purchase_rate_pct": 50.0,
    })


def test_week_53_in_paris_leaves_the_sunday_2330_utc_event_to_week_1(year_end):
    # Paris W53 ends 3 Jan 23:00 UTC: H's 0.05 at 23:30 UTC is Monday 4 Jan, 2027-W01.
    # W53: cost 1.40; MTD 1-3 Jan local: J only -> 1 of 1.
    # W01: cost 0.05, H active, not new (31 Dec); MTD 1-10 Jan: H (no), J (yes) -> 1 of 2.
    w53 = K.kpis(year_end, "week", "2026-W53", PARIS)
    w01 = K.kpis(year_end, "week", "2027-W01", PARIS)
    assert_figures(w53, {"cost_usd": D("1.40"), "active_users": 2, "users_at_target": 1,
                         "users_at_target_pct": 100.0})
    assert_figures(w01, {"cost_usd": D("0.05"), "active_users": 1, "new_users": 0,
                         "revenue_usd": D("0"), "users_at_target_pct": 50.0})


def test_week_without_activity_still_reports_users_at_target_month_to_date(year_end):
    # 2027-W01 in UTC has no event, but MTD to 10 Jan holds H and J -> 1 of 2.
    k = K.kpis(year_end, "week", "2027-W01", "UTC")
    assert_figures(k, {"active_users": 0, "cost_usd": D("0"), "users_at_target": 1,
                       "users_at_target_pct": 50.0,
                       "users_by_level": levels(normal=2)})


# -- one month ---------------------------------------------------------------------------

def test_month_in_utc(march):
    # March: week 11's figures plus A's 0.03 on the 20th: cost 2.84, revenue 8.25,
    # profit 5.41, margin 65.5757..., per user 0.71 / 2.0625 / 1.3525.
    # MTD at the end of March: A 0.12 / 4.00 (3.88, at target), B, E, F not -> 1 of 4.
    # Retention: active in Feb B, D; in March B -> 1 of 2 = 50%.
    k = K.kpis(march, "month", "2026-03", "UTC")
    assert_figures(k, {
        "active_users": 4, "new_users": 3, "cost_usd": D("2.84"), "revenue_usd": D("8.25"),
        "revenue_by_stream": streams(tokens="4", premium="2", affiliate="1.25", data="1"),
        "profit_usd": D("5.41"), "margin_pct": 100 * 5.41 / 8.25,
        "cost_per_user": D("0.71"), "revenue_per_user": D("2.0625"),
        "profit_per_user": D("1.3525"), "paying_users": 3, "payment_conversion_pct": 75.0,
        "token_buyers": 1, "token_purchase_rate_pct": 25.0, "users_at_target": 1,
        "users_at_target_pct": 25.0, "users_by_level": levels(normal=2, basic=1, payment=1),
        "cost_by_action": {"dietary_advice": D("2.10"), "grocery_list": D("0.60"),
                           "meal_plan": D("0.08"), "nutrition_analysis": D("0.03"),
                           "simple_message": D("0.03")},
        "retention_pct": 50.0,
    })


def test_month_with_a_loss_has_negative_margin_and_null_retention_without_a_previous_month(
        march):
    # February: cost B 0.10 + D 2.50 = 2.60, revenue D 1.00, profit -1.60, margin -160%.
    # Nobody was active in January: retention null. MTD: B (-0.10, normal),
    # D (2.50 > cutoff and below target: payment_required) -> 0 of 2.
    k = K.kpis(march, "month", "2026-02", "UTC")
    assert_figures(k, {
        "active_users": 2, "new_users": 2, "cost_usd": D("2.60"), "revenue_usd": D("1"),
        "profit_usd": D("-1.60"), "margin_pct": -160.0, "paying_users": 1,
        "payment_conversion_pct": 50.0, "users_at_target_pct": 0.0,
        "users_by_level": levels(normal=1, payment=1), "retention_pct": None,
    })


def test_per_user_money_is_rounded_half_up_to_the_micro_dollar(make_db, engine):
    # 0.10 over 3 users = 0.0333333... -> 0.033333; 0.20 / 3 = 0.0666666... -> 0.066667
    users = ["+15551110001", "+15551110002", "+15551110003"]
    con = engine(make_db(costs=[
        fx.cost(u, "2026-03-02 10:00:00", "meal_plan", c)
        for u, c in zip(users, ["0.05", "0.05", "0.10"], strict=True)]))
    k = K.kpis(con, "day", "2026-03-02")
    assert k["cost_per_user"] == D("0.066667")
    assert K.per_user(100_000, 3) == D("0.033333")


# -- JSON and the command line ---------------------------------------------------------------

def test_json_money_is_a_string_with_two_decimals_or_more_and_pct_rounded_to_two(march):
    out = json.loads(K.to_json(K.kpis(march, "day", "2026-03-15", PARIS)))
    assert out["cost_usd"] == "0.11"
    assert out["revenue_per_user"] == "3.625"
    assert out["margin_pct"] == 98.48          # 98.4827...
    assert out["revenue_by_stream"]["data"] == "0.00"
    assert out["retention_pct"] is None
    assert out["cost_by_action"] == {"meal_plan": "0.08", "simple_message": "0.03"}


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "queries", "kpis", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def test_cli_prints_one_json_object_with_every_name(make_db):
    db = make_db(costs=fx.MARCH_COSTS, revenue=fx.MARCH_REVENUE)
    run = _cli("--db", str(db), "--grain", "month", "--period", "2026-03", "--timezone", PARIS,
               "--format", "json")
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert set(K.KPI_NAMES) <= set(out)
    assert (out["cost_usd"], out["revenue_usd"], out["retention_pct"]) == ("2.84", "8.25", 50.0)


def test_cli_uses_the_given_policy_for_users_at_target(make_db, tmp_path):
    # With a target of 1.50, B (1.98 MTD profit) joins A: 2 of 4 on 15 Mar.
    from enforcement.policy import load_policy, save_policy
    policy = load_policy(ROOT / "enforcement" / "policies" / "seed-default.toml")
    save_policy(policy.with_changes({"profit.target": D("1.50")}), tmp_path / "p.toml")
    db = make_db(costs=fx.MARCH_COSTS, revenue=fx.MARCH_REVENUE)
    run = _cli("--db", str(db), "--grain", "day", "--period", "2026-03-15",
               "--policy", str(tmp_path / "p.toml"))
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["users_at_target"] == 2


@pytest.mark.parametrize(("grain", "period"), [("week", "2026-W3"), ("month", "2026-13"),
                                               ("day", "15/03/2026"), ("week", "2025-W53")])
def test_cli_malformed_period_is_one_line_and_exit_2(make_db, grain, period):
    db = make_db(costs=fx.MARCH_COSTS)
    run = _cli("--db", str(db), "--grain", grain, "--period", period)
    assert run.returncode == 2
    assert run.stdout == ""
    assert len(run.stderr.strip().splitlines()) == 1


def test_cli_unknown_timezone_is_exit_2(make_db):
    db = make_db(costs=fx.MARCH_COSTS)
    run = _cli("--db", str(db), "--grain", "day", "--period", "2026-03-15",
               "--timezone", "Mars/Olympus")
    assert (run.returncode, len(run.stderr.strip().splitlines())) == (2, 1)


# -- series --------------------------------------------------------------------------------

@pytest.mark.parametrize("tz", ["UTC", PARIS])
def test_daily_series_equals_each_days_kpis_across_a_month_end(march_duckdb, tz):
    series = K.daily_series(march_duckdb, date(2026, 2, 15), date(2026, 3, 22), tz)
    assert len(series) == 36
    for row in series.itertuples():
        k = K.kpis(march_duckdb, "day", row.day.isoformat(), tz)
        got = (row.active_users, row.paying_users, row.cost_usd, row.revenue_usd,
               row.profit_usd, row.mtd_users, row.users_at_target)
        want = (k["active_users"], k["paying_users"], k["cost_usd"], k["revenue_usd"],
                k["profit_usd"], k["mtd_users"], k["users_at_target"])
        assert got == want, row.day


def test_daily_series_share_at_target_month_to_date(march):
    # 14 Mar UTC: 0 of 3; 15 Mar: 1 of 4; 1 Mar: nobody yet (null).
    s = K.daily_series(march, date(2026, 3, 1), date(2026, 3, 15), "UTC").set_index("day")
    assert s.loc[date(2026, 3, 14), "users_at_target_pct"] == 0.0
    assert s.loc[date(2026, 3, 15), "users_at_target_pct"] == 25.0
    assert pd.isna(s.loc[date(2026, 3, 1), "users_at_target_pct"])


def test_summer_time_day_is_23_hours_long(make_db, engine):
    # Paris 29 Mar 2026 = 28 Mar 23:00 - 29 Mar 22:00 UTC: A's 0.10 and 0.20, not B's 0.40.
    con = engine(make_db(costs=fx.DST_COSTS))
    assert K.kpis(con, "day", "2026-03-29", PARIS)["cost_usd"] == D("0.30")
    assert K.kpis(con, "day", "2026-03-30", PARIS)["cost_usd"] == D("0.40")
    s = K.daily_series(con, date(2026, 3, 28), date(2026, 3, 30), PARIS)
    assert list(s["cost_usd"]) == [D("0"), D("0.30"), D("0.40")]


def test_retention_cohorts_by_month_of_first_activity(march):
    # Feb cohort: B, D (2); in March B again -> 1 of 2 = 50%. March cohort: A, E, F.
    c = K.retention_cohorts(march, "2026-03", "UTC")
    rows = {(r.cohort, r.months_since): (r.users, r.pct) for r in c.itertuples()}
    assert rows == {("2026-02", 0): (2, 100.0), ("2026-02", 1): (1, 50.0),
                    ("2026-03", 0): (3, 100.0)}


def test_unpaid_over_cutoff_lists_users_over_the_cutoff_without_revenue(march):
    # MTD 15 Mar: only E is over 2.00 (2.10) with no revenue.
    out = K.unpaid_over_cutoff(march, "2026-03-15", "UTC")
    assert list(out["user_id"]) == [fx.E]
    assert out["cost_usd"].iloc[0] == D("2.10")


def test_cost_per_user_alert_flags_a_day_far_above_the_usual():
    days = [date(2026, 3, d) for d in range(1, 11)]
    cpu = [D("0.10")] * 9 + [D("0.25")]  # 2.5 x the median of the 9 days before
    alerts = K.cost_per_user_alerts(pd.DataFrame({"day": days, "cost_per_user": cpu}))
    assert list(alerts["day"]) == [date(2026, 3, 10)]


def test_usage_segments_count_every_active_user_once(march):
    seg = K.usage_segments(march, "month", "2026-03", "UTC")
    assert seg["users"].sum() == 4
    assert seg.loc[0, "users"] == 4  # all four made fewer than 10 counted requests
    assert seg.loc[0, "at_target"] == 1


def test_profit_histogram_puts_every_active_user_in_one_bin_by_exact_profit(march):
    bins = K.profit_histogram(march, "month", "2026-03", "UTC", bins=4)
    profits = K.profit_per_user(march, "month", "2026-03", "UTC")["profit_usd"]
    assert len(bins) == 4 and bins["users"].sum() == len(profits) == 4
    assert bins["lo_usd"].iloc[0] == float(min(profits))
    assert bins["hi_usd"].iloc[-1] == float(max(profits))
    for lo, hi, n in bins.itertuples(index=False):  # the last bin holds its upper edge
        assert n == sum(lo <= float(v) < hi or (hi == bins["hi_usd"].iloc[-1] and
                                                float(v) == hi) for v in profits)


@pytest.mark.parametrize("tz", ["UTC", PARIS])
@pytest.mark.parametrize(("grain", "period"), [
    ("day", "2026-03-14"), ("day", "2026-03-15"), ("week", "2026-W11"), ("week", "2026-W12"),
    ("month", "2026-02"), ("month", "2026-03")])
def test_sql_figures_equal_the_plain_pandas_reference(march_duckdb, tz, grain, period):
    from enforcement.policy import load_policy
    from tests.bench.bench_kpis import POLICY, figures, load_frames, pandas_kpis
    cost, rev, aff = load_frames(march_duckdb)
    policy = load_policy(POLICY)
    assert figures(K.kpis(march_duckdb, grain, period, tz, policy)) == figures(
        pandas_kpis(cost, rev, aff, grain, period, tz, policy))


def test_positions_count_over_the_cutoff_unpaid_on_both_sides_of_it(make_db) -> None:
    """`kpis.positions` (the alerts' and the verdict's counts) from the rollups and from the
    raw lines equals a count over `user_totals`' rows, with the cutoff at each unpaid user's
    exact month-to-date cost (not over it) and one micro-dollar below it (over it)."""
    import dataclasses

    from tests.conftest import without_rollups

    db = make_db(costs=fx.MARCH_COSTS, revenue=fx.MARCH_REVENUE)
    start, end = K.mtd_bounds(K.make_period("month", "2026-03", "UTC"))
    seed = K.resolve_policy(None)
    for con in (connect_read_only(db), without_rollups(db)):
        rows = K.run(con, "user_totals", start=K.to_utc(start), end=K.to_utc(end))
        unpaid = rows[rows["revenue_micro"] <= 0]["cost_micro"].tolist()
        assert unpaid, "the fixture needs a user with no revenue"
        for cutoff in {c + d for c in unpaid for d in (0, -1)}:
            pol = dataclasses.replace(seed, cutoff=int(cutoff))
            want = int(((rows["cost_micro"] > cutoff) & (rows["revenue_micro"] <= 0)).sum())
            got = K.positions(con, start, end, pol)
            assert got.over_cutoff_unpaid == want, cutoff
            assert got.users == len(rows)
            assert got.at_target == int(((rows["revenue_micro"] - rows["cost_micro"])
                                         >= pol.target).sum())
        con.close()
