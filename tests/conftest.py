"""Fixtures every area shares: hand-built databases on disk, and the demo business."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from loaders.pipeline import Chunk, load
from tests.alerts_fixtures import hook, slack, smtp  # noqa: F401 - fixtures for every test

ROOT = Path(__file__).resolve().parent.parent
# Daily's background build of the Weekly report would add a thread's queries to any test
# that counts what a page computes (and to the app servers the browser tests start, which
# inherit this environment); tests/test_prefetch.py turns it on.
os.environ.setdefault("PROFIT_PREFETCH", "off")


@pytest.fixture
def make_db(tmp_path: Path) -> Callable[..., Path]:
    """Build a DuckDB file through the real loading path from rows written in the test.

    `make_db(costs=[{...}], revenue=[...], tokens=[...], affiliate=[...])`; rows use the
    contract's column names. Cost rows default to `counted=True`, `action` from
    `event_type`, and revenue rows to a generated `event_id`.
    """
    counter = {"n": 0}

    def build(costs: list[dict] | None = None, revenue: list[dict] | None = None,
              tokens: list[dict] | None = None, affiliate: list[dict] | None = None,
              name: str = "test.duckdb") -> Path:
        counter["n"] += 1
        path = tmp_path / name
        frames: dict[str, list[dict]] = {}
        if costs:
            frames["cost_events"] = [
                {"event_id": f"c{i}", "counted": True, "category": "ai", **row}
                for i, row in enumerate(costs)]
        if revenue:
            frames["revenue_events"] = [{"event_id": f"r{i}", **row}
                                        for i, row in enumerate(revenue)]
        if tokens:
            frames["token_balances"] = tokens
        if affiliate:
            frames["affiliate_events"] = [{"event_id": f"a{i}", **row}
                                          for i, row in enumerate(affiliate)]
        result = load(path, "test", [Chunk(frames=frames)])
        assert result.rows_rejected == 0, result.rejected_by_reason
        return path

    return build


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small demo business (400 users, 3 months to 2026-03), generated once per run."""
    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    subprocess.run(
        [sys.executable, "-m", "loaders", "demo", "--db", str(path), "--users", "400",
         "--months", "3", "--end", "2026-03", "--seed", "7"],
        cwd=ROOT, check=True, capture_output=True, text=True)
    return path


# -- the second engine: Spark over a lake ---------------------------------------------------

SPARK_GROUP = pytest.mark.xdist_group("spark")  # every Spark test on one worker: one JVM


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
    """`--dist loadgroup`, done by node id: pytest 9 builds a node id from `_id`, so xdist
    3.8's own loadgroup (which renames `_nodeid`) no longer groups anything. Every test with
    "spark" in its id (the Spark files, the `[spark]` engine parameter) is one scope, sent
    whole to one worker, so the run starts one JVM; every other test is a scope of its own."""
    if config.getoption("dist", None) != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class SparkOnOneWorker(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return "spark" if "spark" in nodeid.lower() else nodeid

    return SparkOnOneWorker(config, log)


@pytest.fixture(scope="session")
def spark():
    """The one SparkSession of a test run: local[2], two shuffle partitions, no UI.

    Where Java is missing this fails with what to install; a Spark test never skips.
    """
    from queries.engine import java_home, spark_session

    try:
        java_home()
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)
    session = spark_session("local[2]", shuffle_partitions=2, app_name="profit-tests", conf={
        "spark.sql.adaptive.enabled": "false",       # tiny data: re-planning only costs
        "spark.default.parallelism": "2",
        "spark.driver.memory": "1g",
        "spark.sql.sources.parallelPartitionDiscovery.threshold": "1000",
    })
    yield session
    session.stop()


def lake_of(db: Path, lake: Path) -> Path:
    """Export a test database to a lake beside it (the real export command's function)."""
    from loaders.export import export

    export(db, str(lake))
    return lake


@pytest.fixture(scope="session")
def demo_lake(demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo business exported once, from a copy (the export adds a load-log row, which
    no other test of `demo_db` expects)."""
    import shutil

    base = tmp_path_factory.mktemp("demo-lake")
    copy = base / "demo.duckdb"
    shutil.copyfile(demo_db, copy)
    return lake_of(copy, base / "lake")


def without_rollups(db: Path) -> object:
    """The database as a reader that cannot see its rollups: every KPI from the raw lines."""
    from loaders.publish import connect_read_only

    con = connect_read_only(db)
    con.execute("DROP VIEW rollup_state")
    return con


@pytest.fixture(params=["duckdb", "duckdb-raw", pytest.param("spark", marks=SPARK_GROUP)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[Path], object]:
    """Open a test database on each engine: `engine(db)` is a connection for queries.run.

    duckdb: the database itself, whose KPIs read the per-user-day rollups every load keeps;
    duckdb-raw: the same file with the rollups out of sight (the raw lines' SQL); spark: the
    database exported to a lake and read by the session's Spark, through the transpiled SQL.
    """
    from loaders.publish import connect_read_only

    if request.param == "duckdb":
        return lambda db: connect_read_only(db)
    if request.param == "duckdb-raw":
        return without_rollups
    from queries.engine import SparkEngine

    session = request.getfixturevalue("spark")
    count = {"n": 0}

    def open_spark(db: Path) -> object:
        count["n"] += 1
        return SparkEngine(session, lake_of(db, tmp_path / f"lake{count['n']}"))

    return open_spark
