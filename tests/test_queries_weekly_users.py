"""The Weekly and Users query layer on the hand-built business of weekly_users_fixtures."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from enforcement.money import to_micro
from enforcement.policy import Policy, load_policy
from loaders.publish import connect_read_only
from queries import kpis, users, weekly
from tests import weekly_users_fixtures as fx

ROOT = Path(__file__).resolve().parent.parent
Con = duckdb.DuckDBPyConnection
MakeDb = Callable[..., Path]
POLICY = load_policy(ROOT / "enforcement" / "policies" / "seed-default.toml")


def m(usd: str) -> int:
    return to_micro(Decimal(usd))


@pytest.fixture
def con(make_db: MakeDb) -> Iterator[Con]:
    c = connect_read_only(fx.build(make_db))
    yield c
    c.close()


def by_user(df: pd.DataFrame) -> dict[str, dict]:
    return {row["user_id"]: row for row in df.to_dict("records")}


# -- weeks ---------------------------------------------------------------------------------

def test_week_bounds_are_local_midnights_and_month_to_date_starts_with_the_sundays_month(
) -> None:
    b = weekly.week_bounds("2026-W14", "Europe/Paris")
    # Mon 30 Mar 00:00 Paris is 29 Mar 22:00 UTC (summer time since the 29th)
    assert b.start == datetime(2026, 3, 29, 22, 0)
    assert b.end == datetime(2026, 4, 5, 22, 0)
    assert b.prev_start == datetime(2026, 3, 22, 23, 0)  # winter time: UTC+1
    assert b.mtd_start == datetime(2026, 3, 31, 22, 0)   # 1 April, the Sunday's month
    assert b.scan_start == datetime(2026, 2, 28, 23, 0)  # 1 March, the Monday's month


@pytest.mark.parametrize("bad", ["2026-W99", "2026-11", "W11", "", "2025-W53"])
def test_malformed_or_impossible_week_is_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        weekly.parse_week(bad)


def test_last_complete_week_is_the_one_before_today() -> None:
    assert weekly.last_complete_week(date(2026, 3, 18)) == "2026-W11"  # a Wednesday
    assert weekly.last_complete_week(date(2026, 3, 16)) == "2026-W11"  # Monday: W12 just began
    assert weekly.last_complete_week(date(2027, 1, 5)) == "2026-W53"


def test_weeks_with_data_run_from_first_to_last_event_newest_first(con: Con) -> None:
    # events from 3 Mar (W10) to 2 Apr (W14)
    assert weekly.weeks_with_data(con, tz="UTC") == [
        "2026-W14", "2026-W13", "2026-W12", "2026-W11", "2026-W10"]


def test_default_week_is_the_newest_the_data_covers_to_its_sunday(con: Con) -> None:
    # the data ends Thursday 2 April (W14), so W13 is the newest complete week
    assert weekly.default_week(con, tz="UTC") == "2026-W13"


# -- the user-level profit table -------------------------------------------------------------

def test_user_table_holds_week_and_month_to_date_figures_worked_by_hand(con: Con) -> None:
    table = weekly.user_table(con, week=fx.WEEK, tz="UTC", policy=POLICY)
    # lowest week profit first: F -2.50, B 0.40, A 3.90, E 4.90, C 8.00; D only in W10
    assert table["user_id"].tolist() == [fx.F, fx.B, fx.A, fx.E, fx.C]
    rows = by_user(table)
    a = rows[fx.A]
    assert (a["requests"], a["cost_micro"], a["revenue_micro"], a["profit_micro"]) == (
        3, m("1.10"), m("5.00"), m("3.90"))  # the uncounted estimate is left out
    assert (a["mtd_cost_micro"], a["mtd_revenue_micro"], a["mtd_profit_micro"]) == (
        m("2.10"), m("5.00"), m("2.90"))
    assert (a["level"], bool(a["at_target"]), a["token_balance"]) == ("payment_required",
                                                                    False, 220)
    assert rows[fx.B]["level"] == "basic_only"          # profit 0.40: 0 < p <= 1.00
    assert rows[fx.B]["partners"] == fx.PARTNER  # the premium plan is paid in W12
    assert rows[fx.C]["profit_micro"] == m("8.00")      # refund netted, no cost
    assert (rows[fx.C]["requests"], rows[fx.C]["level"], bool(rows[fx.C]["at_target"])) == (
        0, "normal", True)
    assert (rows[fx.E]["mtd_cost_micro"], rows[fx.E]["level"]) == (m("1.70"), "normal")
    assert rows[fx.F]["level"] == "payment_required"


def test_user_table_sums_equal_the_kpi_layers_week(con: Con) -> None:
    table = weekly.user_table(con, week=fx.WEEK, tz="UTC", policy=POLICY)
    figures = kpis.kpis(con, "week", fx.WEEK, "UTC", POLICY)
    assert int(table["cost_micro"].sum()) == to_micro(figures["cost_usd"]) == m("5.30")
    assert int(table["revenue_micro"].sum()) == to_micro(figures["revenue_usd"]) == m("20.00")


def test_week_spanning_two_months_takes_month_to_date_from_the_sundays_month(con: Con) -> None:
    g = by_user(weekly.user_table(con, week="2026-W14", tz="UTC", policy=POLICY))[fx.G]
    assert (g["cost_micro"], g["mtd_cost_micro"]) == (m("1.70"), m("0.70"))


def test_reporting_timezone_moves_a_late_sunday_event_into_the_next_week(con: Con) -> None:
    paris = weekly.user_table(con, week=fx.WEEK, tz="Europe/Paris", policy=POLICY)
    assert fx.F not in set(paris["user_id"])  # 15 Mar 23:00 UTC is 16 Mar 00:00 in Paris
    nxt = weekly.user_table(con, week="2026-W12", tz="Europe/Paris", policy=POLICY)
    assert fx.F in set(nxt["user_id"])


def test_top_users_by_cost_rank_by_week_cost(con: Con) -> None:
    table = weekly.user_table(con, week=fx.WEEK, tz="UTC", policy=POLICY)
    top = weekly.top_users_by_cost(table, 3)
    assert top["user_id"].tolist() == [fx.F, fx.B, fx.A]  # 2.50, 1.60, 1.10


# -- streams and cost drivers ------------------------------------------------------------------

def test_stream_performance_has_all_five_streams_against_the_week_before(con: Con) -> None:
    s = weekly.stream_performance(con, week=fx.WEEK, tz="UTC").set_index("stream")
    assert list(s.index) == ["tokens", "premium", "affiliate", "data", "other"]
    assert (s.at["tokens", "revenue_micro"], s.at["tokens", "payers"],
            s.at["tokens", "payments"], s.at["tokens", "refunds_micro"]) == (
        m("18.00"), 3, 3, m("-2.00"))
    assert (s.at["premium", "revenue_micro"], s.at["premium", "prev_revenue_micro"],
            s.at["premium", "change_micro"], s.at["premium", "prev_payers"]) == (
        0, m("4.00"), m("-4.00"), 1)
    assert s.at["affiliate", "revenue_micro"] == m("2.00")
    assert s.at["data", "revenue_micro"] == 0


def test_stream_revenue_equals_the_kpi_layers_revenue_by_stream(con: Con) -> None:
    s = weekly.stream_performance(con, week=fx.WEEK, tz="UTC").set_index("stream")
    figures = kpis.kpis(con, "week", fx.WEEK, "UTC", POLICY)
    for stream, amount in figures["revenue_by_stream"].items():
        assert s.at[stream, "revenue_micro"] == to_micro(amount), stream


def test_partner_names_are_kept_as_given(con: Con) -> None:
    p = weekly.partner_performance(con, week=fx.WEEK, tz="UTC")
    row = p[p["partner"] == fx.PARTNER].iloc[0]
    assert (row["stream"], row["revenue_micro"], row["users"]) == ("affiliate", m("2.00"), 1)


def test_cost_by_action_against_the_week_before_with_shares(con: Con) -> None:
    a = weekly.cost_by_action(con, week=fx.WEEK, tz="UTC")
    assert a["action"].tolist() == ["meal_plan", "grocery_list", "simple_message"]
    rows = a.set_index("action")
    assert (rows.at["meal_plan", "cost_micro"], rows.at["meal_plan", "prev_cost_micro"],
            rows.at["meal_plan", "events"], rows.at["meal_plan", "users"]) == (
        m("4.50"), m("2.60"), 3, 3)
    assert rows.at["simple_message", "prev_cost_micro"] == m("0.30")
    assert rows.at["meal_plan", "share_pct"] == 84.91  # 4.50 / 5.30
    figures = kpis.kpis(con, "week", fx.WEEK, "UTC", POLICY)
    assert {k: to_micro(v) for k, v in figures["cost_by_action"].items()} == {
        k: int(v) for k, v in rows["cost_micro"].items()}


# -- intervention effectiveness --------------------------------------------------------------

def test_crossing_is_the_event_taking_month_to_date_cost_above_the_threshold(con: Con) -> None:
    d = weekly.intervention_detail(con, week=fx.WEEK, tz="UTC", policy=POLICY)
    got = {(r["threshold"], r["user_id"]): (r["crossed_at"], r["paid_micro"], bool(r["paid"]))
           for r in d.to_dict("records")}
    assert got == {
        ("warning", fx.A): (datetime(2026, 3, 11, 10), m("5.00"), True),
        ("cutoff", fx.A): (datetime(2026, 3, 12, 10), m("5.00"), True),
        ("warning", fx.B): (datetime(2026, 3, 13, 10), m("3.00"), True),  # affiliate not paid
        ("warning", fx.F): (datetime(2026, 3, 15, 23), 0, False),
        ("cutoff", fx.F): (datetime(2026, 3, 15, 23), 0, False),
    }  # E crossed the warning in W10, so not here
    assert d["window_complete"].all()  # the data reaches 25 March


def test_intervention_summary_counts_each_user_once_for_either_threshold(con: Con) -> None:
    d = weekly.intervention_detail(con, week=fx.WEEK, tz="UTC", policy=POLICY)
    s = weekly.intervention_summary(d, POLICY).set_index("threshold")
    assert (s.at["warning", "crossed"], s.at["warning", "paid"], s.at["warning", "paid_pct"],
            s.at["warning", "paid_micro"]) == (3, 2, 66.67, m("8.00"))
    assert (s.at["cutoff", "crossed"], s.at["cutoff", "paid"], s.at["cutoff", "paid_pct"],
            s.at["cutoff", "paid_micro"]) == (2, 1, 50.0, m("5.00"))
    assert (s.at[weekly.EITHER, "crossed"], s.at[weekly.EITHER, "paid"],
            s.at[weekly.EITHER, "paid_micro"]) == (3, 2, m("8.00"))


def test_cost_exactly_at_the_warning_is_not_a_crossing(make_db: MakeDb) -> None:
    db = make_db(costs=[fx.cost(fx.A, "2026-03-10 10:00:00", "meal_plan", "1.50"),
                        fx.cost(fx.B, "2026-03-10 10:00:00", "meal_plan", "1.500001")])
    c = connect_read_only(db)
    d = weekly.intervention_detail(c, week=fx.WEEK, tz="UTC", policy=POLICY)
    c.close()
    assert d["user_id"].tolist() == [fx.B]


def test_payment_window_not_yet_over_is_reported_open(make_db: MakeDb) -> None:
    db = make_db(costs=[fx.cost(fx.A, "2026-03-15 10:00:00", "meal_plan", "1.60")])
    c = connect_read_only(db)
    d = weekly.intervention_detail(c, week=fx.WEEK, tz="UTC", policy=POLICY)
    s = weekly.intervention_summary(d, POLICY).set_index("threshold")
    c.close()
    assert (s.at["warning", "crossed"], s.at["warning", "window_open"]) == (1, 1)


def test_a_policy_with_a_lower_warning_moves_the_crossing(con: Con) -> None:
    lower: Policy = POLICY.with_changes({"thresholds.warning": "1.20"})
    d = weekly.intervention_detail(con, week=fx.WEEK, tz="UTC", policy=lower)
    a = d[(d["threshold"] == "warning") & (d["user_id"] == fx.A)].iloc[0]
    assert a["crossed_at"] == datetime(2026, 3, 10, 10)  # MTD 1.40 > 1.20


# -- users ------------------------------------------------------------------------------------

def test_search_by_last_digits_finds_only_phones_ending_with_them(con: Con) -> None:
    assert users.search(con, digits="1111", tz="UTC")["user_id"].tolist() == [fx.A]
    assert users.search(con, digits="…0001", tz="UTC")["user_id"].tolist() == [fx.D]
    assert users.search(con, digits="1", tz="UTC").empty  # fewer than two digits


def test_search_input_is_digits_only_and_bound(con: Con) -> None:
    # the quote, OR and % are dropped: only "11" is bound, and it matches A (…1111) alone
    assert users.search(con, digits="' OR 1=1 --%", tz="UTC")["user_id"].tolist() == [fx.A]
    assert users.search(con, digits="%%", tz="UTC").empty


def test_month_series_folds_counted_cost_and_revenue_with_the_level_after_each(con: Con) -> None:
    ev = users.month_events(con, user=fx.A, month="2026-03", tz="UTC", policy=POLICY)
    assert ev["mtd_cost_micro"].tolist() == [m(x) for x in
                                             ("1.00", "1.40", "1.60", "1.60", "2.10", "2.10")]
    assert ev["mtd_revenue_micro"].tolist() == [0, 0, 0, 0, 0, m("5.00")]
    assert ev["level"].tolist() == ["affiliate_gated"] * 4 + ["payment_required"] * 2
    assert ev["counted"].tolist() == [True, True, True, False, True, True]


def test_users_months_and_token_balances(con: Con) -> None:
    assert users.months_of(con, user=fx.G, tz="UTC") == ["2026-04", "2026-03"]
    b = users.token_balances(con, user=fx.A, tz="UTC")
    assert b["balance"].tolist() == [100, 220, 200]


def test_month_to_date_for_crossings_restarts_at_the_local_month_start(make_db: MakeDb) -> None:
    # 31 Mar 21:30 UTC is 23:30 in Paris (March); 22:30 UTC is 1 Apr 00:30 in Paris (April).
    db = make_db(costs=[fx.cost(fx.A, "2026-03-31 21:30:00", "meal_plan", "1.00"),
                        fx.cost(fx.A, "2026-03-31 22:30:00", "meal_plan", "1.00")])
    c = connect_read_only(db)
    utc = weekly.intervention_detail(c, week="2026-W14", tz="UTC", policy=POLICY)
    paris = weekly.intervention_detail(c, week="2026-W14", tz="Europe/Paris", policy=POLICY)
    c.close()
    assert utc["threshold"].tolist() == ["warning"]  # March: 1.00 + 1.00 = 2.00 > 1.50
    assert paris.empty                                # 1.00 in March, 1.00 in April


def test_crossings_follow_the_reporting_timezones_week(con: Con) -> None:
    d = weekly.intervention_detail(con, week=fx.WEEK, tz="Europe/Paris", policy=POLICY)
    # F's 15 Mar 23:00 UTC crossing is Monday 16 Mar in Paris: week 12
    assert sorted(d.loc[d["threshold"] == "warning", "user_id"]) == [fx.A, fx.B]


def test_the_reports_crossings_show_their_instant_in_the_reporting_timezone(con: Con) -> None:
    """The report's crossings carry the UTC instant and its local wall-clock time; Paris is
    UTC+1 until 29 March (so 23:30 UTC on a Sunday is 00:30 on the Monday)."""
    from report import model

    rep = model.build_weekly(con, week=fx.WEEK, tz="Europe/Paris", policy=POLICY)
    got = rep.crossings[["crossed_at", "crossed_at_local"]]
    assert len(got) > 0
    for utc, local in got.itertuples(index=False):
        expected = pd.Timestamp(utc).tz_localize("UTC").tz_convert("Europe/Paris")
        assert pd.Timestamp(local) == expected.tz_localize(None)
        assert pd.Timestamp(local) - pd.Timestamp(utc) == pd.Timedelta(hours=1)
    assert model._local(pd.Series([datetime(2026, 3, 15, 23, 30)]), "Europe/Paris").tolist() == [
        pd.Timestamp(2026, 3, 16, 0, 30)]
    assert model._local(pd.Series([datetime(2026, 3, 29, 12, 0)]), "Europe/Paris").tolist() == [
        pd.Timestamp(2026, 3, 29, 14, 0)]  # summer time from 29 March: UTC+2


@pytest.mark.parametrize("tz", ["UTC", "America/New_York"])
def test_the_reports_verdict_equals_the_verdict_counted_on_its_own(con: Con, tz: str) -> None:
    """The Weekly report hands its week's month-to-date counts to the verdict (the week ends
    on the verdict's day); the verdict is the one `verdict()` counts by itself."""
    from queries.verdict import verdict
    from report import model

    rep = model.build_weekly(con, week=fx.WEEK, tz=tz, policy=POLICY)
    alone = verdict(con, "2026-03-15", tz, POLICY, first_month="2026-03")
    assert rep.verdict == alone
    assert rep.verdict.users == rep.kpis["mtd_users"] > 0
