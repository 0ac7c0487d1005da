"""`python -m loaders export`: the lake's layout and types, incremental months, the load log,
and DuckDB reading the lake giving the database's answers."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from loaders import lake as L
from loaders.export import export
from loaders.pipeline import Chunk, load
from loaders.publish import connect_read_only
from queries import kpis as K
from tests import kpi_fixtures as fx

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def march_db(make_db: Callable[..., Path]) -> Path:
    return make_db(costs=fx.MARCH_COSTS, revenue=fx.MARCH_REVENUE,
                   affiliate=[{"user_id": fx.A, "ts": "2026-03-14 09:00:00",
                               "partner": "HelloFresh", "kind": "click"}],
                   tokens=[{"user_id": fx.A, "as_of": "2026-03-15 09:00:00", "balance": 120}])


def test_each_table_is_hive_partitioned_by_utc_month(march_db: Path, tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    export(march_db, str(lake))
    # MARCH_COSTS: February (B, D) and March; revenue the same; one click, one balance.
    months = {t: sorted(p.name for p in (lake / t).iterdir()) for t in L.TABLES}
    assert months == {"cost_events": ["month=2026-02", "month=2026-03"],
                      "revenue_events": ["month=2026-02", "month=2026-03"],
                      "token_balances": ["month=2026-03"],
                      "affiliate_events": ["month=2026-03"]}
    (part,) = (lake / "cost_events" / "month=2026-03").glob("part-*.parquet")
    schema = pq.read_schema(part)
    assert str(schema.field("cost_usd").type) == "decimal128(18, 6)"
    assert str(schema.field("ts").type) == "timestamp[us, tz=UTC]"   # an instant, in UTC
    assert "month" not in schema.names                                # the directory says it
    table = pq.read_table(part)
    assert Decimal("0.080000") in table.column("cost_usd").to_pylist()
    assert table.num_rows == 7                 # 7 March cost lines, the uncounted one too


def test_a_second_export_of_the_same_data_rewrites_nothing(march_db: Path,
                                                           tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    first = export(march_db, str(lake))
    files = sorted(str(p) for p in lake.rglob("*.parquet"))
    second = export(march_db, str(lake))
    assert (len(first.written), len(second.written), len(second.kept)) == (6, 0, 6)
    assert sorted(str(p) for p in lake.rglob("*.parquet")) == files


def test_a_load_rewrites_only_the_months_it_changed(march_db: Path, tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    export(march_db, str(lake))
    feb = sorted((lake / "cost_events" / "month=2026-02").glob("*.parquet"))
    # A later load adds one March cost line: only cost_events' March is rewritten.
    load(march_db, "late", [Chunk(frames={"cost_events": [fx.cost(fx.A, "2026-03-21 10:00:00",
                                                                   "meal_plan", "0.05")
                                                           | {"event_id": "late1"}]})])
    again = export(march_db, str(lake))
    assert again.written == [("cost_events", "2026-03")]
    assert again.rows_written == 8
    assert sorted((lake / "cost_events" / "month=2026-02").glob("*.parquet")) == feb
    (march,) = (lake / "cost_events" / "month=2026-03").glob("*.parquet")
    assert pq.read_table(march).num_rows == 8  # the old file of that month is gone


def test_a_month_changed_in_place_is_seen_by_its_checksum(march_db: Path,
                                                          tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    export(march_db, str(lake))
    # Same rows, same load_id, one value changed (as pairing does to `counted`).
    from loaders.publish import new_version
    with new_version(march_db) as con:
        con.execute("UPDATE cost_events SET counted = NOT counted WHERE event_id = 'c1'")
    assert export(march_db, str(lake)).written == [("cost_events", "2026-02")]


def test_each_export_is_in_the_load_log(march_db: Path, tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    export(march_db, str(lake))
    export(march_db, str(lake))
    con = connect_read_only(march_db)
    try:
        rows = con.execute("SELECT source, status, rows_read, rows_written, watermark "
                           "FROM load_log WHERE source LIKE 'export:%' ORDER BY load_id"
                           ).fetchall()
    finally:
        con.close()
    # 9 cost + 6 revenue + 1 balance + 1 click = 17 rows read each time, written once.
    assert [(s, st, r, w) for s, st, r, w, _ in rows] == [
        (f"export:{lake}", "ok", 17, 17), (f"export:{lake}", "ok", 17, 0)]
    assert rows[0][4] == rows[1][4]  # the same snapshot: the same digest


def assert_the_lake_answers_as_the_database(db_path: Path, lake: str | Path) -> None:
    """Every KPI at every grain, in UTC and Paris, equal on the lake and on the database
    (the S3 lake's test asks the same of its lake)."""
    db, on_lake = connect_read_only(db_path), L.connect_lake(lake)
    try:
        for tz in ("UTC", "Europe/Paris"):
            for grain, period in (("day", "2026-03-15"), ("week", "2026-W11"),
                                  ("month", "2026-03")):
                assert K.kpis(on_lake, grain, period, tz) == K.kpis(db, grain, period, tz)
        assert K.kpis(on_lake, "month", "2026-03")["cost_usd"] == Decimal("2.84")
    finally:
        db.close()
        on_lake.close()


def test_duckdb_on_the_lake_answers_as_on_the_database(march_db: Path, tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    export(march_db, str(lake))
    assert_the_lake_answers_as_the_database(march_db, lake)


def test_reading_a_missing_lake_says_how_to_write_one(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="loaders export"):
        L.connect_lake(tmp_path / "nothing")


def test_export_command_prints_its_summary(march_db: Path, tmp_path: Path) -> None:
    run = subprocess.run([sys.executable, "-m", "loaders", "export", "--db", str(march_db),
                          "--lake", str(tmp_path / "lake")], cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "6 month(s) rewritten (17 rows)" in run.stdout
    manifest = json.loads((tmp_path / "lake" / "_manifest.json").read_text())
    assert manifest["tables"]["cost_events"]["months"]["2026-03"]["rows"] == 7


def test_engine_settings_default_to_duckdb_on_the_database(monkeypatch) -> None:
    from core import settings

    for name in ("PROFIT_ENGINE", "PROFIT_LAKE", "PROFIT_SPARK_MASTER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PROFIT_SECRETS", "/nonexistent/secrets.toml")
    assert settings.engine() == settings.EngineSettings("duckdb", None, "local[*]")
    monkeypatch.setenv("PROFIT_ENGINE", "spark")
    with pytest.raises(ValueError, match="needs \\[engine\\] lake"):
        settings.engine()
    monkeypatch.setenv("PROFIT_LAKE", "s3://bucket/lake")
    monkeypatch.setenv("PROFIT_SPARK_MASTER", "sc://spark.internal:15002")
    assert settings.engine() == settings.EngineSettings("spark", "s3://bucket/lake",
                                                        "sc://spark.internal:15002")
    monkeypatch.setenv("PROFIT_ENGINE", "presto")
    with pytest.raises(ValueError, match="one of duckdb, spark"):
        settings.engine()


def test_the_app_reads_the_lake_when_the_settings_name_one(march_db: Path, tmp_path: Path,
                                                           monkeypatch) -> None:
    from dashboard import data

    lake = tmp_path / "lake"
    export(march_db, str(lake))
    monkeypatch.setenv("PROFIT_SECRETS", "/nonexistent/secrets.toml")
    monkeypatch.delenv("PROFIT_ENGINE", raising=False)
    monkeypatch.setenv("PROFIT_LAKE", str(lake))
    monkeypatch.setenv("PROFIT_DB", str(tmp_path / "no-such.duckdb"))  # never opened
    version = data.current_version()
    assert version is not None and version[:2] == ("duckdb", str(lake))
    assert K.kpis(data.connection(), "month", "2026-03")["cost_usd"] == Decimal("2.84")
