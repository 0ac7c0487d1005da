"""Spark and DuckDB agree to the micro-dollar: every KPI at every grain in two timezones, the
replay under two policies, the weekly report's figures, on the hand-built fixtures and on
the demo business. Spark reads the lake `python -m loaders export` writes; DuckDB reads the
database. Everything here runs in the test run's one SparkSession (conftest `spark`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from enforcement.fast_replay import replay_fast
from enforcement.policy import Policy, load_policy
from loaders.publish import connect_read_only
from queries import kpis as K
from queries.engine import SparkEngine
from queries.history import read_history
from queries.spark_replay import replay_spark
from tests import kpi_fixtures as fx
from tests.conftest import SPARK_GROUP, lake_of

pytestmark = SPARK_GROUP
ROOT = Path(__file__).resolve().parent.parent
SEED = load_policy(ROOT / "enforcement" / "policies" / "seed-default.toml")
# A second policy that changes most decisions: stricter thresholds, in Paris months.
STRICT = SEED.with_changes({"thresholds.warning": Decimal("0.60"),
                            "thresholds.cutoff": Decimal("1.00"),
                            "thresholds.restriction": Decimal("0.75"),
                            "profit.target": Decimal("1.50"), "timezone": "Europe/Paris"})
ZONES = ("UTC", "Europe/Paris")


@pytest.fixture(scope="session")
def demo_spark(spark, demo_lake: Path) -> SparkEngine:
    return SparkEngine(spark, demo_lake)


@pytest.fixture(scope="session")
def demo_duck(demo_db: Path):
    con = connect_read_only(demo_db)
    yield con
    con.close()


@pytest.fixture
def march_pair(make_db: Callable[..., Path], spark, tmp_path: Path):
    db = make_db(costs=fx.MARCH_COSTS, revenue=fx.MARCH_REVENUE)
    con = connect_read_only(db)
    yield con, SparkEngine(spark, lake_of(db, tmp_path / "lake"))
    con.close()


# -- every KPI, every grain, two timezones ------------------------------------------------

DEMO_PERIODS = [("day", "2026-03-14"), ("week", "2026-W10"), ("month", "2026-03")]


@pytest.mark.parametrize("tz", ZONES)
@pytest.mark.parametrize(("grain", "period"), DEMO_PERIODS)
def test_every_kpi_of_the_demo_business_is_equal_on_spark(demo_duck, demo_spark, grain, period,
                                                          tz) -> None:
    duck = K.kpis(demo_duck, grain, period, tz, SEED)
    assert duck["active_users"] > 50 and duck["cost_usd"] > 0  # a real business, not zeros
    assert K.kpis(demo_spark, grain, period, tz, SEED) == duck


@pytest.mark.parametrize("tz", ZONES)
def test_every_kpi_of_the_fixtures_is_equal_on_spark_at_every_grain(march_pair, tz) -> None:
    duck, spark = march_pair
    for grain, period in [("day", "2026-03-15"), ("week", "2026-W11"), ("month", "2026-03")]:
        assert K.kpis(spark, grain, period, tz, SEED) == K.kpis(duck, grain, period, tz, SEED)


def test_the_daily_series_is_equal_on_spark_across_a_month_end(march_pair) -> None:
    duck, spark = march_pair
    for tz in ZONES:
        want = K.daily_series(duck, date(2026, 2, 15), date(2026, 3, 22), tz)
        pd.testing.assert_frame_equal(
            K.daily_series(spark, date(2026, 2, 15), date(2026, 3, 22), tz), want)


# -- the replay ------------------------------------------------------------------------------

def _same_replay(a, b) -> None:
    assert a.months == b.months
    assert a.total == b.total
    pd.testing.assert_frame_equal(a.table, b.table)


@pytest.mark.parametrize("policy", [SEED, STRICT], ids=["seed", "strict-paris"])
def test_the_replay_on_spark_equals_duckdbs_on_the_demo_business(demo_db, demo_spark,
                                                                 policy: Policy) -> None:
    fast = replay_fast(read_history(demo_db, "2026-01", "2026-03", policy.timezone), policy,
                       "2026-01", "2026-03")
    assert fast.total["requests"] > 10_000 and fast.total["not_served"]["affiliate_required"]
    _same_replay(replay_spark(demo_spark, policy, "2026-01", "2026-03", partitions=3), fast)


def test_the_replay_on_spark_equals_duckdbs_on_the_fixtures(march_pair) -> None:
    duck, spark = march_pair
    for policy in (SEED, STRICT):
        fast = replay_fast(read_history(duck, "2026-02", "2026-03", policy.timezone), policy,
                           "2026-02", "2026-03")
        _same_replay(replay_spark(spark, policy, "2026-02", "2026-03"), fast)


def test_a_big_months_replay_is_split_into_more_partitions_and_stays_equal(
        demo_db, demo_spark, monkeypatch) -> None:
    from queries import spark_replay

    events = spark_replay._events_estimate(demo_spark, "2026-03", "2026-03")
    assert events > 10_000  # the manifest's rows of February..April (no scan)
    monkeypatch.setattr(spark_replay, "EVENTS_PER_PARTITION", events // 5)
    fast = replay_fast(read_history(demo_db, "2026-03", "2026-03", "UTC"), SEED,
                       "2026-03", "2026-03")
    _same_replay(replay_spark(demo_spark, SEED, "2026-03", "2026-03"), fast)


# -- the weekly report's figures ------------------------------------------------------------

def test_the_weekly_reports_figures_are_equal_on_spark(demo_duck, demo_spark) -> None:
    # In Paris here; the command below writes the same CSV in UTC.
    from report.model import build_weekly

    tz = "Europe/Paris"
    duck = build_weekly(demo_duck, week="2026-W11", tz=tz, policy=SEED)
    spark = build_weekly(demo_spark, week="2026-W11", tz=tz, policy=SEED)
    assert len(duck.users) > 50 and duck.kpis["cost_usd"] > 0
    assert (spark.kpis, spark.prev_kpis, spark.targets) == (duck.kpis, duck.prev_kpis,
                                                             duck.targets)
    assert spark.verdict == duck.verdict
    for name in ("users", "streams", "partners", "actions", "interventions", "crossings",
                 "economics", "categories", "accuracy", "to_act"):
        pd.testing.assert_frame_equal(getattr(spark, name), getattr(duck, name), obj=name)


def test_report_command_on_spark_writes_the_same_csv(demo_db, demo_lake, tmp_path) -> None:
    from report.command import main

    common = ["weekly", "--week", "2026-W11", "--timezone", "UTC"]
    assert main([*common, "--db", str(demo_db), "--out", str(tmp_path / "duck.csv")]) == 0
    assert main([*common, "--engine", "spark", "--lake", str(demo_lake), "--spark-master",
                 "local[2]", "--out", str(tmp_path / "spark.csv")]) == 0
    duck = (tmp_path / "duck.csv").read_bytes()
    assert duck.count(b"\n") > 50
    assert (tmp_path / "spark.csv").read_bytes() == duck


# -- the commands ------------------------------------------------------------------------------

def test_kpis_command_on_spark_prints_what_duckdb_prints(demo_db, demo_lake, capsys) -> None:
    from queries.__main__ import main

    common = ["kpis", "--grain", "month", "--period", "2026-03", "--timezone", "Europe/Paris"]
    assert main([*common, "--db", str(demo_db)]) == 0
    duck = capsys.readouterr().out
    assert main([*common, "--engine", "spark", "--lake", str(demo_lake),
                 "--spark-master", "local[2]"]) == 0
    assert capsys.readouterr().out == duck
    assert main([*common, "--lake", str(demo_lake)]) == 0  # DuckDB on the lake
    assert capsys.readouterr().out == duck


def test_replay_command_on_spark_prints_what_fast_prints(demo_db, demo_lake, capsys) -> None:
    from enforcement.__main__ import main

    common = ["replay", "--policy", str(ROOT / "enforcement" / "policies" /
                                        "seed-default.toml"), "--start", "2026-02",
              "--end", "2026-03"]
    assert main([*common, "--db", str(demo_db)]) == 0
    fast = capsys.readouterr().out
    assert main([*common, "--engine", "spark", "--lake", str(demo_lake),
                 "--spark-master", "local[2]"]) == 0
    assert capsys.readouterr().out == fast
    assert '"requests"' in fast


def test_spark_without_a_lake_is_a_usage_error(demo_db, capsys) -> None:
    from queries.__main__ import main

    assert main(["kpis", "--grain", "day", "--period", "2026-03-01", "--engine", "spark",
                 "--db", str(demo_db)]) == 2
    assert "--lake" in capsys.readouterr().err
