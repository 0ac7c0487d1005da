"""A lake on S3 (moto's server on 127.0.0.1): `python -m loaders export --lake s3://...` writes
the same layout as on disk, incrementally, and DuckDB reads it (without httpfs) giving the
database's answers. Spark reading s3a:// needs hadoop-aws on the cluster: not tested here."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import boto3
import pyarrow.parquet as pq
import pytest

from loaders import lake as L
from loaders.export import export
from loaders.pipeline import Chunk, load
from loaders.publish import connect_read_only
from tests import kpi_fixtures as fx
from tests import sources_fixtures as sfx
from tests.test_lake_export import assert_the_lake_answers_as_the_database

monkeypatch_module, moto_url, moto = sfx.monkeypatch_module, sfx.moto_url, sfx.moto
ROOT = Path(__file__).resolve().parent.parent
BUCKET = "profit-lake"
LAKE = f"s3://{BUCKET}/teams/lake"


@pytest.fixture
def s3(moto: str, monkeypatch: pytest.MonkeyPatch):
    """An empty bucket on this test's moto, the endpoint in AWS_ENDPOINT_URL; its client."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto)
    client = boto3.client("s3", endpoint_url=moto, region_name=sfx.REGION)
    client.create_bucket(Bucket=BUCKET)
    return client


def _keys(client) -> list[str]:
    listed = client.list_objects_v2(Bucket=BUCKET, Prefix="teams/lake/")
    return sorted(o["Key"].removeprefix("teams/lake/") for o in listed.get("Contents", [])
                  if not o["Key"].endswith("/"))


@pytest.fixture
def march_db(make_db: Callable[..., Path]) -> Path:
    return make_db(costs=fx.MARCH_COSTS, revenue=fx.MARCH_REVENUE,
                   affiliate=[{"user_id": fx.A, "ts": "2026-03-14 09:00:00",
                               "partner": "HelloFresh", "kind": "click"}],
                   tokens=[{"user_id": fx.A, "as_of": "2026-03-15 09:00:00", "balance": 120}])


def _run(*args: str) -> str:
    run = subprocess.run([sys.executable, "-m", *args], cwd=ROOT, env=dict(os.environ),
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    return run.stdout


def test_export_writes_the_lake_to_s3_incrementally(s3, march_db: Path) -> None:
    out = _run("loaders", "export", "--db", str(march_db), "--lake", LAKE)
    assert "6 month(s) rewritten (17 rows)" in out
    keys = _keys(s3)
    parts = [k for k in keys if k.endswith(".parquet")]
    assert "_manifest.json" in keys and len(parts) == 6
    assert {k.rsplit("/", 1)[0] for k in parts} == {
        "cost_events/month=2026-02", "cost_events/month=2026-03",
        "revenue_events/month=2026-02", "revenue_events/month=2026-03",
        "token_balances/month=2026-03", "affiliate_events/month=2026-03"}
    manifest = json.loads(s3.get_object(Bucket=BUCKET, Key="teams/lake/_manifest.json")
                          ["Body"].read())
    (march,) = manifest["tables"]["cost_events"]["months"]["2026-03"]["files"]
    fs, root = L.filesystem(LAKE)
    table = pq.read_table(f"{root}/{march}", filesystem=fs)
    assert str(table.schema.field("cost_usd").type) == "decimal128(18, 6)"
    assert str(table.schema.field("ts").type) == "timestamp[us, tz=UTC]"
    assert table.num_rows == 7

    assert export(march_db, LAKE).written == []          # nothing changed: nothing written
    assert _keys(s3) == keys
    load(march_db, "late", [Chunk(frames={"cost_events": [fx.cost(fx.A, "2026-03-21 10:00:00",
                                                                   "meal_plan", "0.05")
                                                           | {"event_id": "late1"}]})])
    again = export(march_db, LAKE)
    assert again.written == [("cost_events", "2026-03")] and again.rows_written == 8
    now = _keys(s3)
    assert set(keys) - set(now) == {march}                # the month's old file is deleted
    assert len([k for k in now if k.endswith(".parquet")]) == 6
    con = connect_read_only(march_db)
    try:
        logged = con.execute("SELECT count(*) FROM load_log WHERE source = ? AND status = 'ok'",
                             [f"export:{LAKE}"]).fetchone()[0]
    finally:
        con.close()
    assert logged == 3


def test_duckdb_on_the_s3_lake_answers_as_on_the_database(s3, march_db: Path) -> None:
    export(march_db, LAKE)
    assert_the_lake_answers_as_the_database(march_db, LAKE)


def test_kpis_command_on_the_s3_lake_prints_what_the_database_gives(s3, march_db) -> None:
    export(march_db, LAKE)
    common = ("queries", "kpis", "--grain", "month", "--period", "2026-03",
              "--timezone", "Europe/Paris")
    duck = _run(*common, "--db", str(march_db))
    assert Decimal(json.loads(duck)["cost_usd"]) > 0
    assert _run(*common, "--engine", "duckdb", "--lake", LAKE) == duck
    # s3a:// (what Spark's hadoop-aws reads) names the same lake.
    assert _run(*common, "--lake", LAKE.replace("s3://", "s3a://")) == duck


def test_a_missing_s3_lake_says_how_to_write_one(s3) -> None:
    with pytest.raises(FileNotFoundError, match="loaders export"):
        L.connect_lake(f"s3://{BUCKET}/nothing")
