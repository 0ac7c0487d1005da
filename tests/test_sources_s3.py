"""S3 for the file loader on moto's server: a DynamoDB export and contract Parquet files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from loaders import files, s3
from loaders.pipeline import LoadError
from tests import sources_fixtures as fx
from tests.sources_fixtures import (
    AWS_ENV,
    answers,
    contract_rows,
    csv_to_parquet,
    original_items,
    s3_client,
    write_csv,
    write_dynamodb_export,
    write_dynamodb_json,
)

# The shared fixtures, bound here so pytest finds them (see tests/sources_fixtures.py).
monkeypatch_module, moto_url, moto = fx.monkeypatch_module, fx.moto_url, fx.moto
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def bucket(moto: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto)
    s3.reset_client()
    s3_client(moto).create_bucket(Bucket="exports")
    yield "exports"
    s3.reset_client()


def test_dynamodb_export_under_a_prefix_gives_the_same_answers_as_its_items(
        bucket: str, moto: str, tmp_path: Path):
    items = original_items(extra_users=40)
    write_dynamodb_export(s3_client(moto), bucket, "chatbot/", items)
    db = tmp_path / "s3.duckdb"
    first = files.load_files(db, {}, s3_prefixes=["s3://exports/chatbot/"])
    reference = tmp_path / "local.duckdb"
    files.load_files(reference, write_dynamodb_json(items, tmp_path / "local"))
    assert answers(db) == answers(reference)
    assert first.rows_read == len(items["costs"]) + len(items["revenue"]) + len(items["tokens"])
    again = files.load_files(db, {}, s3_prefixes=["s3://exports/chatbot/"])
    assert again.rows_written == 0
    assert again.source == first.source == "files:s3://exports/chatbot/"


def test_export_prefix_given_for_one_table_loads_that_table(bucket: str, moto: str,
                                                            tmp_path: Path):
    items = original_items()
    write_dynamodb_export(s3_client(moto), bucket, "only-costs/", {"costs": items["costs"]})
    db = tmp_path / "s3.duckdb"
    result = files.load_files(db, {"cost_events": ["s3://exports/only-costs/"]})
    assert result.rows_read == 8
    assert answers(db)["costs"][0] == 7  # one negative cost refused


def test_contract_parquet_files_under_a_prefix_give_the_csv_answers(bucket: str, moto: str,
                                                                    tmp_path: Path):
    rows = contract_rows(300)
    csv_files = write_csv(rows, tmp_path / "csv")
    parquet = csv_to_parquet(csv_files, tmp_path / "parquet")
    client = s3_client(moto)
    for table, path in parquet.items():
        # one file named for its table, one in a folder named for it
        key = (f"warehouse/{table}.parquet" if table != "revenue_events"
               else "warehouse/revenue_events/part-0000.parquet")
        client.upload_file(str(path), bucket, key)
    client.put_object(Bucket=bucket, Key="warehouse/README.txt", Body=b"not data")
    db = tmp_path / "s3.duckdb"
    result = files.load_files(db, {}, s3_prefixes=["s3://exports/warehouse"])
    reference = tmp_path / "csv.duckdb"
    files.load_files(reference, csv_files)
    assert answers(db) == answers(reference)
    assert result.rows_read == 300 * 6
    assert files.load_files(db, {}, s3_prefixes=["s3://exports/warehouse"]).rows_written == 0


def test_single_s3_object_streams_through_open_remote(bucket: str, moto: str,
                                                      tmp_path: Path):
    rows = contract_rows(20)
    csv_files = write_csv(rows, tmp_path / "csv")
    s3_client(moto).upload_file(csv_files["cost_events"][0], bucket, "day/costs.csv")
    with s3.open_remote("s3://exports/day/costs.csv") as fh:
        assert fh.readline().startswith(b"event_id,user_id,ts")
    db = tmp_path / "s3.duckdb"
    files.load_files(db, {"cost_events": ["s3://exports/day/costs.csv"]})
    assert answers(db)["costs"][0] == 60


def test_missing_object_or_empty_prefix_is_a_clear_error(bucket: str, moto: str,
                                                         tmp_path: Path):
    db = tmp_path / "s3.duckdb"
    with pytest.raises(LoadError, match="no such object"):
        files.load_files(db, {"cost_events": ["s3://exports/none/costs.csv"]})
    with pytest.raises(FileNotFoundError, match="no contract files"):
        files.load_files(db, {}, s3_prefixes=["s3://exports/nothing-here/"])
    env = {**os.environ, **AWS_ENV, "AWS_ENDPOINT_URL": moto,
           "PROFIT_SECRETS": str(tmp_path / "none.toml")}
    proc = subprocess.run(
        [sys.executable, "-m", "loaders", "files", "--db", str(db), "--s3-prefix",
         "s3://no-such-bucket/x/"], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=120)
    assert proc.returncode == 1
    assert "no such bucket" in proc.stderr
    assert AWS_ENV["AWS_SECRET_ACCESS_KEY"] not in proc.stdout + proc.stderr
