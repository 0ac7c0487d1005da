"""The per-user-day rollups (issue 13): every KPI read from them equals the raw lines' at
every grain and timezone, every publish keeps them equal to a full rebuild, and a database
another program wrote is read from its raw lines."""

from __future__ import annotations

import dataclasses
import random
import shutil
import subprocess
import sys
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from loaders import rollups
from loaders.pipeline import Chunk, load
from loaders.publish import connect_read_only, new_version
from queries import kpis as K
from queries import records, weekly, weekly_costs
from queries import rollups as read_rollups
from tests.conftest import without_rollups

ROOT = Path(__file__).resolve().parent.parent
STREAMS = ("tokens", "premium", "affiliate", "data", "other")
PERIODS = [("month", "2026-03"), ("month", "2026-02"), ("week", "2026-W10"),
           ("week", "2026-W13"), ("day", "2026-03-01"), ("day", "2026-03-29"),
           ("day", "2026-02-28")]
ZONES = ["UTC", "Europe/Paris", "America/Los_Angeles", "Asia/Kolkata", "Pacific/Kiritimati"]
ROLLUP_ORDER = {
    "rollup_users": "user_id",
    "rollup_actions": "action",
    "rollup_cost_days": "day, user_key",
    "rollup_revenue_days": "day, user_key",
    "rollup_breakdown_days": "day, action, category NULLS FIRST",
    "rollup_cost_months": "month, user_key",
    "rollup_revenue_months": "month, user_key",
    "rollup_mtd_days": "day, user_key",
    "rollup_accuracy_days": "day, action",
    "rollup_day_marks": "day",
    "rollup_state": "cost_rows",
}


def _business(seed: int, users: int = 60) -> dict[str, list[dict]]:
    """Random lines around February-March 2026, many near midnights and at $2.00 exactly."""
    rnd = random.Random(seed)
    phones = [f"+1555{seed:03d}{i:04d}" for i in range(users)]
    base = datetime(2026, 2, 20)
    costs, revenue = [], []
    for i in range(users * 12):
        day = base + timedelta(days=rnd.randrange(45))
        ts = day + timedelta(hours=rnd.choice([0, 0.5, 5, 12, 21.5, 22.5, 23, 23.99]))
        usd = rnd.choice(["0.010000", "0.050000", "0.250000", "1.000000", "2.000000",
                          "1.999999", "2.000001", "0.000000"])
        costs.append({"event_id": f"c{i}", "user_id": rnd.choice(phones), "ts": ts,
                      "action": rnd.choice(["meal_plan", "simple_message", "recipe_search"]),
                      "cost_usd": usd, "counted": rnd.random() < 0.8,
                      "category": rnd.choice(["ai", "messaging", None])})
    for i in range(users * 2):
        day = base + timedelta(days=rnd.randrange(45), hours=rnd.choice([0, 1, 22.5, 23.5]))
        amount = rnd.choice(["5.00", "-1.00", "2.00", "0.50", "3.00"])
        revenue.append({"event_id": f"r{i}", "user_id": rnd.choice(phones), "ts": day,
                        "stream": rnd.choice(STREAMS), "amount_usd": amount})
    return {"cost_events": costs, "revenue_events": revenue}


def _estimates(seed: int, users: int = 40, pairing: bool = True) -> list[dict]:
    """Estimates and `_completed` actuals around UTC midnights, seconds apart: pairs that
    cross a day, actuals after the next estimate or past two minutes, two actuals for one
    estimate. `pairing`: `counted` left to the loader; else the source says it."""
    rnd = random.Random(seed)
    tag = "p" if pairing else "g"
    lines = []
    for u in range(users):
        phone = f"+1556{seed:03d}{u:03d}{int(pairing)}"
        t = datetime(2026, 3, 1 + rnd.randrange(20)) - timedelta(minutes=rnd.randrange(4))
        for i in range(rnd.randrange(10, 30)):
            t += timedelta(seconds=rnd.choice([0, 1, 20, 59, 60, 119, 120, 121, 300, 43200]))
            action = rnd.choice(["meal_plan", "recipe_search", "error_handling"])
            actual = rnd.random() < 0.55
            lines.append({"event_id": f"{tag}{seed}-{u}-{i}", "user_id": phone, "ts": t,
                          "action": action, "event_type": action + "_completed" * actual,
                          "cost_usd": rnd.choice(["0.010000", "0.050000", "0.120000"]),
                          **({} if pairing else {"counted": actual or rnd.random() < 0.3})})
    return lines


def _load(db: Path, frames: dict[str, list[dict]]) -> None:
    result = load(db, "test", [Chunk(frames=frames)])
    assert result.rows_rejected == 0, result.rejected_by_reason


def _rollup_rows(db: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return {t: con.execute(f"SELECT * FROM {t} ORDER BY {o}").fetchall()
                for t, o in ROLLUP_ORDER.items()}


@pytest.fixture(scope="module")
def business_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("rollups") / "business.duckdb"
    _load(db, _business(seed=1))
    _load(db, {"cost_events": _estimates(seed=1)})
    _load(db, {"cost_events": _estimates(seed=1, pairing=False)})
    # an estimate just before W13's Monday with two actuals, one on each side of midnight:
    # it is compared with the first, so W13 has no pair of it (the week reads from 2 min
    # before its start)
    _load(db, {"cost_events": [
        {"event_id": f"mid{i}", "user_id": "+15557770001", "ts": ts, "action": "meal_plan",
         "event_type": "meal_plan" + "_completed" * (i > 0), "cost_usd": "0.050000",
         "counted": i > 0}
        for i, ts in enumerate((datetime(2026, 3, 22, 23, 59, 20),
                                datetime(2026, 3, 22, 23, 59, 50),
                                datetime(2026, 3, 23, 0, 0, 30)))]})
    return db


def test_a_load_leaves_rollups_ready_and_a_plain_reader_of_the_raw_lines_sees_them_not(
        business_db):
    assert read_rollups.ready(connect_read_only(business_db)) is True
    assert read_rollups.ready(without_rollups(business_db)) is False


@pytest.mark.parametrize("tz", ZONES)
def test_every_figure_from_the_rollups_equals_the_raw_lines_in_every_zone(business_db, tz):
    fast, raw = connect_read_only(business_db), without_rollups(business_db)
    for grain, period in PERIODS:
        got, expected = K.kpis(fast, grain, period, tz), K.kpis(raw, grain, period, tz)
        assert got == expected, (grain, period, tz)
    # the data reaches every kind of figure these periods hold (not zeros equal to zeros)
    march = K.kpis(raw, "month", "2026-03", tz)
    assert march["active_users"] > 40 and march["new_users"] > 0
    assert march["premium_upgrades"] + march["premium_upgrade_base"] > 0
    assert march["retention_pct"] is not None and len(march["cost_by_category"]) == 3


@pytest.mark.parametrize("tz", ZONES)
def test_the_datas_span_from_the_day_marks_equals_the_raw_lines(business_db, tz):
    """The first and last local instants (the pickers' span, the month-1 targets) read from
    the day marks are those of the events themselves, to the micro-second."""
    fast, raw = connect_read_only(business_db), without_rollups(business_db)
    got, want = records(fast, "local_span_rollup", tz=tz), records(raw, "local_span", tz=tz)
    assert got == want
    assert want[0]["first_local"] < want[0]["last_local"]
    assert K.data_span(fast, tz) == K.data_span(raw, tz)


@pytest.mark.parametrize("tz", ZONES)
def test_a_windows_cost_and_revenue_alone_are_those_of_its_kpis(business_db, tz):
    """period_money (the verdict's and the margin alert's month to date) from the rollups
    and from the raw lines says what period_kpis says of the same window."""
    fast, raw = connect_read_only(business_db), without_rollups(business_db)
    for grain, period in PERIODS:
        start, end = (K.to_utc(b) for b in K.mtd_bounds(K.make_period(grain, period, tz)))
        want = K.period_totals(raw, start, end)
        want = {"cost_micro": want["cost_micro"], "revenue_micro": want["revenue_micro"]}
        assert K.period_money(fast, start, end) == want, (grain, period)
        assert K.period_money(raw, start, end) == want, (grain, period)
    assert want["cost_micro"] > 0 and want["revenue_micro"] != 0


@pytest.mark.parametrize("tz", ["UTC", "Asia/Kolkata"])
def test_every_users_month_to_date_from_the_rollups_equals_the_raw_lines(business_db, tz):
    fast, raw = connect_read_only(business_db), without_rollups(business_db)
    for day in ("2026-03-01", "2026-03-14", "2026-03-31", "2026-04-03"):
        got, want = K.mtd_users(fast, "day", day, tz), K.mtd_users(raw, "day", day, tz)
        pd.testing.assert_frame_equal(got, want)
    assert len(got) > 20 and got["level"].nunique() >= 3


def test_the_daily_series_in_utc_from_the_rollups_equals_the_raw_lines(business_db):
    fast, raw = connect_read_only(business_db), without_rollups(business_db)
    for first, last in ((date(2026, 2, 20), date(2026, 4, 5)), (date(2026, 3, 10),
                                                                 date(2026, 3, 12))):
        got, want = K.daily_series(fast, first, last), K.daily_series(raw, first, last)
        pd.testing.assert_frame_equal(got, want)
    assert got["users_at_target"].sum() > 0 and got["mtd_users"].min() > 0


def test_retention_cohorts_in_utc_from_the_month_rollups_equal_the_raw_lines(business_db):
    fast, raw = connect_read_only(business_db), without_rollups(business_db)
    for month in ("2026-02", "2026-03", "2026-04"):
        got, want = K.retention_cohorts(fast, month), K.retention_cohorts(raw, month)
        pd.testing.assert_frame_equal(got, want)
    assert len(got) >= 3 and got["months_since"].max() >= 1  # a cohort came back a month on


def test_weekly_crossings_in_utc_from_the_rollups_equal_the_raw_lines(business_db):
    """Each week's threshold crossings, with the policy's limits and with limits at a
    user's exact month to date (the line that reaches a limit does not cross it; the next
    does) and a micro-dollar either side."""
    fast, raw = connect_read_only(business_db), without_rollups(business_db)
    seed = K.resolve_policy(None)
    mtd = raw.execute("SELECT CAST(sum(cost_usd) OVER (PARTITION BY user_id, "
                      "date_trunc('month', ts) ORDER BY ts, event_id) * 1000000 AS BIGINT) "
                      "FROM cost_events WHERE counted AND ts >= '2026-03-09' "
                      "ORDER BY ts, event_id LIMIT 1 OFFSET 40").fetchone()[0]
    policies = [seed] + [dataclasses.replace(seed, warning=mtd + d, cutoff=mtd + 2 * d)
                         for d in (-1, 0, 1)]
    crossed = 0
    for pol in policies:
        for week in ("2026-W08", "2026-W09", "2026-W10", "2026-W11", "2026-W14", "2026-W15"):
            got = weekly.intervention_detail(fast, week=week, tz="UTC", policy=pol)
            want = weekly.intervention_detail(raw, week=week, tz="UTC", policy=pol)
            pd.testing.assert_frame_equal(got, want)
            crossed += len(want)
    assert crossed > 100  # every week and limit crossed by someone, not empties equal


def test_a_crossing_among_lines_at_one_instant_is_that_instant_from_the_rollups_too(
        tmp_path: Path) -> None:
    """Month to date $1.99, then three $0.02 lines at one instant: the first of them (by
    event id) crosses the $2.00 limit, though each is $2.03 or more with the other two; the
    rollups' twin sums lines at one instant together and finds the same instant."""
    db = tmp_path / "ties.duckdb"
    tie = datetime(2026, 3, 18, 9, 30)
    _load(db, {"cost_events": [
        {"event_id": "a0", "user_id": "+15550000001", "ts": datetime(2026, 3, 2, 8),
         "action": "meal_plan", "cost_usd": "1.990000", "counted": True},
        *({"event_id": f"t{i}", "user_id": "+15550000001", "ts": tie, "action": "meal_plan",
           "cost_usd": "0.020000", "counted": True} for i in range(3)),
        {"event_id": "z9", "user_id": "+15550000001", "ts": tie + timedelta(hours=1),
         "action": "meal_plan", "cost_usd": "0.500000", "counted": True}]})
    pol = dataclasses.replace(K.resolve_policy(None), warning=1_000_000, cutoff=2_000_000)
    fast, raw = connect_read_only(db), without_rollups(db)
    got = weekly.intervention_detail(fast, week="2026-W12", tz="UTC", policy=pol)
    want = weekly.intervention_detail(raw, week="2026-W12", tz="UTC", policy=pol)
    pd.testing.assert_frame_equal(got, want)
    assert got[["threshold", "crossed_at"]].values.tolist() == [["cutoff", pd.Timestamp(tie)]]


def test_the_weekly_user_table_in_utc_from_the_rollups_equals_the_raw_lines(business_db):
    fast, raw = connect_read_only(business_db), without_rollups(business_db)
    seed = K.resolve_policy(None)
    for week in ("2026-W08", "2026-W09", "2026-W10", "2026-W13", "2026-W14", "2026-W15"):
        got = weekly.user_table(fast, week=week, tz="UTC", policy=seed)
        want = weekly.user_table(raw, week=week, tz="UTC", policy=seed)
        pd.testing.assert_frame_equal(got, want)
    # W09 ends in March: its month to date starts on the 1st, not with the week
    w09 = weekly.user_table(raw, week="2026-W09", tz="UTC", policy=seed)
    assert (w09["mtd_cost_micro"] < w09["cost_micro"]).any() and len(w09) > 20


def test_weekly_cost_drivers_in_utc_from_the_rollups_equal_the_raw_lines(business_db):
    """Cost, lines and users per action, and cost per category, against the week before."""
    fast, raw = connect_read_only(business_db), without_rollups(business_db)
    users = 0
    for week in ("2026-W08", "2026-W09", "2026-W10", "2026-W13", "2026-W14", "2026-W15"):
        for figure in (weekly.cost_by_action, weekly_costs.category_growth):
            got = figure(fast, week=week, tz="UTC")
            want = figure(raw, week=week, tz="UTC")
            pd.testing.assert_frame_equal(got, want)
        users += int(weekly.cost_by_action(raw, week=week, tz="UTC")["users"].sum())
    assert users > 100


def test_users_of_an_action_past_the_63rd_are_counted_from_the_raw_lines(tmp_path):
    """Sixty-five actions: the last two have no bit in the rollups, so the week's users per
    action come from the raw lines, and still equal them."""
    db = tmp_path / "actions.duckdb"
    lines = [{"event_id": f"a{i}-{u}", "user_id": f"+1555123{u:04d}",
              "ts": datetime(2026, 3, 23, 10) + timedelta(minutes=i), "action": f"act_{i:02d}",
              "cost_usd": "0.010000", "counted": True}
             for i in range(65) for u in range(i % 3 + 1)]
    _load(db, {"cost_events": lines})
    con = connect_read_only(db)
    bits = con.execute("SELECT count(bit), count(*) FROM rollup_actions").fetchone()
    assert bits == (63, 65)
    got = weekly.cost_by_action(con, week="2026-W13", tz="UTC")
    want = weekly.cost_by_action(without_rollups(db), week="2026-W13", tz="UTC")
    pd.testing.assert_frame_equal(got, want)
    assert got.set_index("action").loc["act_64", "users"] == 2


def test_weekly_estimate_accuracy_in_utc_from_the_rollups_equals_the_raw_lines(business_db):
    fast, raw = connect_read_only(business_db), without_rollups(business_db)
    pairs = alone = 0
    for week in ("2026-W08", "2026-W09", "2026-W10", "2026-W11", "2026-W12", "2026-W13"):
        got = weekly_costs.estimate_accuracy(fast, week=week, tz="UTC")
        want = weekly_costs.estimate_accuracy(raw, week=week, tz="UTC")
        pd.testing.assert_frame_equal(got, want)
        pairs += int(want["pairs"].sum())
        alone += int(want["estimates_alone"].sum())
    assert pairs > 50 and alone > 10  # pairs of both kinds of source, and estimates alone


@pytest.mark.parametrize("per_part", [150, 12])  # runs of a few days; several parts a day
def test_estimates_paired_in_runs_of_days_and_parts_by_phone_are_the_pairs_of_one_pass(
        business_db, tmp_path, monkeypatch, per_part):
    copy = tmp_path / "parts.duckdb"
    shutil.copyfile(business_db, copy)
    monkeypatch.setattr(rollups, "ACCURACY_LINES_PER_PART", per_part)
    calls: list[tuple[datetime, datetime, int]] = []
    real = rollups._chunks

    def chunks(con, lo, hi):
        out = real(con, lo, hi)
        calls.extend(out)
        return out

    monkeypatch.setattr(rollups, "_chunks", chunks)
    rollups.rebuild(copy)
    runs = [c for c in calls if c[2]]
    assert len(runs) > 5
    if per_part == 150:  # quiet days paired together
        assert any(end - start > timedelta(days=1) for start, end, _ in runs)
    else:  # a busy day in parts by phone
        assert any(n > per_part for *_, n in runs)
    whole, parts = _rollup_rows(business_db), _rollup_rows(copy)
    assert parts["rollup_accuracy_days"] == whole["rollup_accuracy_days"]
    assert sum(_pairs_by_day(whole).values()) > 50


def test_a_window_without_a_whole_utc_day_is_read_from_the_raw_lines_alone():
    start, end = datetime(2026, 3, 14, 23), datetime(2026, 3, 15, 23)  # a Paris day
    w = read_rollups.window(start, end)
    assert (w["day_from"], w["day_to"]) == (w["day_from"], w["day_from"])
    assert (w["a_end"], w["b_start"]) == (end, end)
    w = read_rollups.window(datetime(2026, 2, 28, 23), datetime(2026, 3, 31, 22))  # Paris March
    assert (str(w["day_from"]), str(w["day_to"])) == ("2026-03-01", "2026-03-31")
    assert (w["a_end"], w["b_start"]) == (datetime(2026, 3, 1), datetime(2026, 3, 31))
    assert w["month_from"] == w["month_to"] == w["day_to"]  # no whole month: days alone
    w = read_rollups.window(datetime(2026, 1, 20), datetime(2026, 4, 1))  # a UTC month
    assert (str(w["month_from"]), str(w["month_to"])) == ("2026-02-01", "2026-04-01")
    assert (str(w["day_from"]), str(w["day_to"])) == ("2026-01-20", "2026-04-01")


def test_one_whole_utc_month_is_read_ungrouped_and_two_are_summed(business_db):
    """A window of exactly one UTC month reads its month rollup rows as they are
    (`one_month`); two whole months, or a month and a day, are summed per user."""
    fast, raw = connect_read_only(business_db), without_rollups(business_db)
    pol = K.resolve_policy(None)
    windows = [(datetime(2026, 3, 1), datetime(2026, 4, 1)),
               (datetime(2026, 2, 1), datetime(2026, 4, 1)),
               (datetime(2026, 2, 28), datetime(2026, 4, 1))]
    assert [read_rollups.window(*w)["one_month"] for w in windows] == [True, False, False]
    for start, end in windows:
        start, end = start.replace(tzinfo=UTC), end.replace(tzinfo=UTC)
        pd.testing.assert_frame_equal(K.user_totals(fast, start, end),
                                      K.user_totals(raw, start, end))
        utc = K.to_utc(start), K.to_utc(end)
        assert K.period_totals(fast, *utc) == K.period_totals(raw, *utc)
        assert K.positions(fast, start, end, pol) == K.positions(raw, start, end, pol)
    assert len(K.user_totals(raw, *(w.replace(tzinfo=UTC) for w in windows[1]))) > 50


def test_a_utc_month_is_read_from_the_month_rollups_and_a_week_from_the_days(business_db,
                                                                              tmp_path):
    db = tmp_path / "marked.duckdb"
    shutil.copyfile(business_db, db)
    before = {g: K.kpis(connect_read_only(db), g, p) for g, p in (("month", "2026-03"),
                                                                  ("week", "2026-W11"))}
    with duckdb.connect(str(db)) as con:  # a micro-dollar that only the month rollup holds
        con.execute("UPDATE rollup_cost_months SET cost_micro = cost_micro + 1 "
                    "WHERE month = '2026-03-01' AND user_key = (SELECT min(user_key) "
                    "FROM rollup_cost_months WHERE month = '2026-03-01')")
    con = connect_read_only(db)
    month, week = K.kpis(con, "month", "2026-03"), K.kpis(con, "week", "2026-W11")
    assert month["cost_usd"] - before["month"]["cost_usd"] == K.usd(1)
    assert week["cost_usd"] == before["week"]["cost_usd"]


def test_rollups_of_an_older_layout_are_not_read_and_the_next_load_rebuilds_them(tmp_path):
    db = tmp_path / "old.duckdb"
    _load(db, _business(seed=6))
    with duckdb.connect(str(db)) as con:
        con.execute("DROP TABLE rollup_cost_months")
        con.execute("ALTER TABLE rollup_state DROP COLUMN version")
    assert read_rollups.ready(connect_read_only(db)) is False
    _load(db, {"cost_events": [{"event_id": "z", "user_id": "+15550000001",
                                "ts": datetime(2026, 3, 5), "action": "meal_plan",
                                "cost_usd": "0.100000", "counted": True}]})
    con = connect_read_only(db)
    assert read_rollups.ready(con) is True
    assert K.kpis(con, "month", "2026-03") == K.kpis(without_rollups(db), "month", "2026-03")


def test_every_later_load_keeps_the_rollups_equal_to_a_full_rebuild(tmp_path):
    db, rebuilt = tmp_path / "kept.duckdb", tmp_path / "rebuilt.duckdb"
    frames = _business(seed=2)
    _load(db, frames)
    _load(db, {"cost_events": _estimates(seed=2)})
    p = "+15558880001"

    def paired(i: int, ts: datetime, action: str, actual: bool, **given: bool) -> dict:
        return {"event_id": f"pp{i}", "user_id": p, "ts": ts, "action": action,
                "event_type": action + "_completed" * actual, "cost_usd": "0.050000", **given}

    _load(db, {"cost_events": [paired(1, datetime(2026, 3, 20, 23, 59), "meal_plan", False),
                               paired(2, datetime(2026, 3, 21, 0, 0, 20), "meal_plan", True),
                               ]})
    _load(db, {"cost_events": [  # the source says which estimates an actual replaced
        paired(6, datetime(2026, 3, 21, 23, 58), "meal_plan", False, counted=False),
        paired(7, datetime(2026, 3, 21, 23, 58, 30), "meal_plan", True, counted=True),
        paired(3, datetime(2026, 3, 21, 23, 59, 45), "meal_plan", False, counted=False)]})
    changes = [
        # an estimate late on 20 March ends the window of the one before it: the pair across
        # midnight goes, and 21 March's accuracy with it, though no line of the 21st changed
        {"cost_events": [paired(4, datetime(2026, 3, 20, 23, 59, 50), "recipe_search",
                                False)]},
        # its actual just after midnight pairs with that estimate 55 s before it, on the
        # day before, which no line of this load touched
        {"cost_events": [paired(5, datetime(2026, 3, 22, 0, 0, 40), "meal_plan", True,
                                counted=True)]},
        # a new day's lines, a new user among them
        {"cost_events": [{"event_id": "n1", "user_id": "+15559990001",
                          "ts": datetime(2026, 4, 10, 9), "action": "meal_plan",
                          "cost_usd": "0.300000", "counted": True, "category": "ai"}],
         "revenue_events": [{"event_id": "n2", "user_id": "+15559990001",
                             "ts": datetime(2026, 4, 10, 10), "stream": "premium",
                             "amount_usd": "2.00"}]},
        # a line corrected in place (same event id: new cost, new user, another day)
        {"cost_events": [{**frames["cost_events"][0], "cost_usd": "0.420000",
                          "user_id": "+15559990002", "ts": datetime(2026, 3, 3, 23, 30)}]},
        # a refund of an old payment
        {"revenue_events": [{**frames["revenue_events"][0], "amount_usd": "-5.00"}]},
        # a counted line moved to another user, nothing else changed
        {"cost_events": [{**next(r for r in frames["cost_events"][1:] if r["counted"]),
                          "user_id": "+15559990003"}]},
        # an estimate alone late on 24 March (it counts) ...
        {"cost_events": [paired(8, datetime(2026, 3, 24, 23, 59, 30), "meal_plan", False)]},
        # ... and its actual after midnight, a load later: the estimate stops counting, on a
        # day this load wrote no line of
        {"cost_events": [paired(9, datetime(2026, 3, 25, 0, 0, 30), "meal_plan", True)]},
        # a user's first counted line moved days later: that user's first moves later
        {"cost_events": [{**_first_line(frames["cost_events"], "counted"),
                          "ts": _first_line(frames["cost_events"], "counted")["ts"]
                          + timedelta(days=3)}]},
        # another user's first counted line no longer counted: its first is the next line's
        {"cost_events": [{**_first_line(frames["cost_events"], "counted", nth=1),
                          "counted": False}]},
        # a user's first premium payment moved later, and another's first tokens refunded
        {"revenue_events": [
            {**_first_line(frames["revenue_events"], "premium"),
             "ts": _first_line(frames["revenue_events"], "premium")["ts"] + timedelta(days=4)},
            {**_first_line(frames["revenue_events"], "tokens"), "amount_usd": "-2.00"}]},
    ]
    days_changed, accuracy, spans = [], [], []
    start = _pairs_by_day(_rollup_rows(db))
    pairs_21, pairs_22 = start[date(2026, 3, 21)], start[date(2026, 3, 22)]
    for change in changes:
        before = _rollup_rows(db)["rollup_day_marks"]
        _load(db, change)
        after = _rollup_rows(db)["rollup_day_marks"]
        days_changed.append(len(set(after) - set(before)))
        rebuilt.unlink(missing_ok=True)
        with new_version(rebuilt, fresh=True) as con:  # the same lines, rolled up at once
            con.execute("ATTACH ? AS src (READ_ONLY)", [str(db)])
            for table in ("cost_events", "revenue_events"):
                con.execute(f"INSERT INTO {table} SELECT * FROM src.{table}")
            con.execute("DETACH src")
        kept, full = _rollup_rows(db), _rollup_rows(rebuilt)
        # keys and action bits are handed out in load order: compare by phone and action
        assert _by_phone(_actions_named(kept), "rollup_cost_days") \
            == _by_phone(_actions_named(full), "rollup_cost_days")
        assert sorted(a for a, _ in kept["rollup_actions"]) \
            == sorted(a for a, _ in full["rollup_actions"])
        for table in ("rollup_revenue_days", "rollup_cost_months",
                      "rollup_revenue_months", "rollup_mtd_days"):
            assert _by_phone(kept, table) == _by_phone(full, table)
        assert [r[1:] for r in kept["rollup_users"]] == [r[1:] for r in full["rollup_users"]]
        for table in ("rollup_breakdown_days", "rollup_accuracy_days", "rollup_day_marks",
                      "rollup_state"):
            assert kept[table] == full[table]
        accuracy.append(_pairs_by_day(kept))
        spans.append(records(connect_read_only(db), "local_span_rollup", tz="Asia/Kolkata"))
        assert spans[-1] == records(without_rollups(db), "local_span", tz="Asia/Kolkata")
    assert spans[2] != spans[1]  # a new day's lines, later than any: the span moved
    assert accuracy[0][date(2026, 3, 21)] == pairs_21 - 1  # the pair across midnight went
    assert accuracy[1][date(2026, 3, 22)] == pairs_22 + 1  # the pair across midnight came
    assert days_changed[:2] == [1, 1]  # each the day of its one line
    assert days_changed[2] == 1  # one new day rolled up, the month kept
    assert days_changed[3] == 2  # the day the line left and the day it joined
    assert days_changed[5] == 1  # the user alone moved: its day is rolled up again
    assert days_changed[7] == 2  # the new actual's day and its estimate's, re-paired


def _first_line(lines: list[dict], kind: str, nth: int = 0) -> dict:
    """The earliest line of the `nth` user (by phone) with two or more lines of `kind`
    (`counted`: counted cost lines; else positive revenue of that stream)."""
    def of_kind(r: dict) -> bool:
        if kind == "counted":
            return bool(r["counted"])
        return r["stream"] == kind and not r["amount_usd"].startswith("-")
    by_user: dict[str, list[dict]] = {}
    for r in filter(of_kind, lines):
        by_user.setdefault(r["user_id"], []).append(r)
    users = sorted(u for u, rs in by_user.items() if len({r["ts"] for r in rs}) > 1)
    return min(by_user[users[nth]], key=lambda r: (r["ts"], r["event_id"]))


def _pairs_by_day(rows: dict[str, list[tuple]]) -> Counter:
    """The estimate-actual pairs of each UTC day, over every action."""
    days: Counter = Counter()
    for day, _action, pairs, *_ in rows["rollup_accuracy_days"]:
        days[day] += pairs
    return days


def _actions_named(rows: dict[str, list[tuple]]) -> dict[str, list[tuple]]:
    """rollup_cost_days with each day's action bits as the sorted names of its actions."""
    bits = {bit: action for action, bit in rows["rollup_actions"]}
    named = [(*r[:5], tuple(sorted(a for b, a in bits.items() if r[5] >> b & 1)))
             for r in rows["rollup_cost_days"]]
    return {**rows, "rollup_cost_days": named}


def _by_phone(rows: dict[str, list[tuple]], table: str) -> list[tuple]:
    phone = {r[0]: r[1] for r in rows["rollup_users"]}
    return sorted((r[0], phone[r[1]], *r[2:]) for r in rows[table])


def test_lines_written_by_another_program_are_read_raw_and_counted_exactly(tmp_path):
    db = tmp_path / "other.duckdb"
    _load(db, _business(seed=3))
    before = K.kpis(connect_read_only(db), "month", "2026-03")
    with duckdb.connect(str(db)) as con:
        con.execute("INSERT INTO cost_events (event_id, user_id, ts, action, cost_usd, counted,"
                    " source) VALUES ('x1', '+15550000001', '2026-03-05 10:00', 'meal_plan',"
                    " 7.5, true, 'elsewhere')")
    con = connect_read_only(db)
    assert read_rollups.ready(con) is False
    after = K.kpis(con, "month", "2026-03")
    assert after["cost_usd"] - before["cost_usd"] == K.usd(7_500_000)
    assert after["active_users"] == before["active_users"] + 1
    # The next load writes another day only, and names it; the day the other program wrote
    # has a line more than its mark, so it is rolled up again too.
    _load(db, {"cost_events": [{"event_id": "x2", "user_id": "+15550000002",
                                "ts": datetime(2026, 3, 28, 9), "action": "meal_plan",
                                "cost_usd": "0.500000", "counted": True}]})
    con = connect_read_only(db)
    assert read_rollups.ready(con) is True
    assert K.kpis(con, "month", "2026-03") == K.kpis(without_rollups(db), "month", "2026-03")
    assert K.kpis(con, "month", "2026-03")["cost_usd"] - before["cost_usd"] == K.usd(8_000_000)


def test_a_failed_load_leaves_the_rollups_as_they_were(tmp_path):
    db = tmp_path / "failed.duckdb"
    _load(db, _business(seed=4))
    before = _rollup_rows(db)

    def chunks():
        yield Chunk(frames={"cost_events": [{"event_id": "late", "user_id": "+15550000001",
                                             "ts": datetime(2026, 5, 1), "action": "meal_plan",
                                             "cost_usd": "1.000000", "counted": True}]})
        raise OSError("the source went away")

    with pytest.raises(Exception, match="went away"):
        load(db, "test", chunks())
    assert _rollup_rows(db) == before


def test_the_rollups_command_rebuilds_them_for_a_database_another_program_wrote(tmp_path):
    db = tmp_path / "bare.duckdb"
    _load(db, _business(seed=5))
    with duckdb.connect(str(db)) as con:
        for table in rollups.TABLES:
            con.execute(f"DROP TABLE {table}")
    done = subprocess.run([sys.executable, "-m", "loaders", "rollups", "--db", str(db)],
                          cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    days = len(_rollup_rows(db)["rollup_day_marks"])
    assert days > 40 and f"rolled up {days} days" in done.stdout
    assert read_rollups.ready(connect_read_only(db)) is True
