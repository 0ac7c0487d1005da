"""The SQL loader against a real PostgreSQL (initdb + pg_ctl) and SQLite files."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import sqlalchemy as sa

from loaders import files
from loaders.pipeline import LoadError
from loaders.sql import load_sql
from tests import sources_fixtures as fx
from tests.sources_fixtures import answers, contract_rows, fill_sql, write_csv

# The shared fixture, bound here so pytest finds it (see tests/sources_fixtures.py).
postgres = fx.postgres
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def pg_db(postgres: dict) -> dict:
    """A fresh database on the module's server for each test that asks."""
    return postgres


def _fresh_database(info: dict, name: str) -> sa.URL:
    admin = sa.create_engine(info["url"], isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return info["url"].set(database=name)


def _reference(tmp_path: Path, rows: dict) -> dict:
    db = tmp_path / "files.duckdb"
    files.load_files(db, write_csv(rows, tmp_path / "csv"))
    return answers(db)


def test_postgres_tables_give_the_file_loaders_answers_in_chunks(postgres: dict,
                                                                  tmp_path: Path):
    url = _fresh_database(postgres, "contract")
    rows = contract_rows(400)
    fill_sql(url, rows)
    db = tmp_path / "pg.duckdb"
    chunks: dict[str, int] = {}

    def progress(table: str, done: int, total: int | None) -> None:
        chunks[table] = chunks.get(table, 0) + 1
        assert total is not None and done <= total

    result = load_sql(db, url, chunk_rows=250, progress=progress)
    # 1,200 cost rows in chunks of 250: the bar moves 5 times after its start.
    assert chunks["cost_events"] == 1 + 5
    assert result.rows_read == 1200 + 400 * 3
    assert answers(db) == _reference(tmp_path, rows)
    a = answers(db)
    # 400 estimates replaced by their completions; completions and errors count.
    assert a["costs"][0] == 1200 and a["costs"][3] == 800


def test_second_postgres_load_changes_nothing_and_new_rows_come_incrementally(
        postgres: dict, tmp_path: Path):
    url = _fresh_database(postgres, "incremental")
    rows = contract_rows(100)
    fill_sql(url, rows)
    db = tmp_path / "pg.duckdb"
    load_sql(db, url)
    again = load_sql(db, url)
    assert again.rows_written == 0
    assert again.rows_read < 20  # only rows at the last timestamp are read again
    later = contract_rows(30, month="2026-04", tag="n")
    fill_sql(url, later, create=False)
    full = tmp_path / "full.duckdb"
    shutil.copyfile(db, full)
    incremental = load_sql(db, url)
    assert incremental.rows_read < 30 * 6 + 20
    assert incremental.rows_written == 30 * 6
    load_sql(full, url, full=True)
    assert answers(db) == answers(full)
    merged = {t: rows[t] + later[t] for t in rows}
    assert answers(db) == _reference(tmp_path, merged)


MAPPING = """
[cost_events]
table = "usage_lines"
schema = "billing"
[cost_events.columns]
event_id = "line_id"
user_id = "phone"
ts = "created_at"
event_type = "kind"
cost_usd = { sql = "amount_micros / 1000000.0" }
category = "cat"

[revenue_events]
table = "payments"
schema = "billing"
watermark = "paid_at"
[revenue_events.columns]
event_id = { sql = "'pay-' || payment_no" }
user_id = "msisdn"
ts = "paid_at"
stream = { sql = "CASE product WHEN 'topup' THEN 'tokens' ELSE 'premium' END" }
amount_usd = "amount"
"""


def test_mapping_renames_tables_and_columns_and_computes_expressions(postgres: dict,
                                                                     tmp_path: Path):
    url = _fresh_database(postgres, "mapped")
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE SCHEMA billing"))
        conn.execute(sa.text(
            "CREATE TABLE billing.usage_lines (line_id TEXT, phone TEXT, "
            "created_at TIMESTAMPTZ, kind TEXT, amount_micros BIGINT, cat TEXT)"))
        conn.execute(sa.text(
            "CREATE TABLE billing.payments (payment_no INT, msisdn TEXT, paid_at TIMESTAMP, "
            "product TEXT, amount NUMERIC(12, 2))"))
        conn.execute(sa.text(
            "INSERT INTO billing.usage_lines VALUES "
            "('L1', 'whatsapp:+15550000001', '2026-03-01 09:00:00.25+00', 'meal_plan', 80000, "
            "'ai'),"
            "('L2', '+15550000001', '2026-03-01 10:00:30+01', 'meal_plan_completed', 71200, 'ai'),"
            "('L3', '+15550000002', '2026-03-02 08:00:00+00', 'error_handling', 1000, NULL)"))
        conn.execute(sa.text(
            "INSERT INTO billing.payments VALUES (7, '+15550000001', '2026-03-02 08:00:00', "
            "'topup', 5.00), (8, '+15550000002', '2026-03-03 08:00:00', 'plan', 9.99)"))
    engine.dispose()
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(MAPPING)
    db = tmp_path / "mapped.duckdb"
    result = load_sql(db, url, mapping=mapping)
    assert result.rows_rejected == 0
    con = duckdb.connect(str(db), read_only=True)
    costs = con.execute("SELECT event_id, user_id, ts::VARCHAR, action, cost_usd::VARCHAR, "
                        "counted FROM cost_events ORDER BY event_id").fetchall()
    revenue = con.execute("SELECT event_id, stream, amount_usd::VARCHAR FROM revenue_events "
                          "ORDER BY event_id").fetchall()
    con.close()
    # 10:00:30+01 is 09:00:30 UTC: 30 s after the estimate, so it replaces it.
    assert costs == [
        ("L1", "+15550000001", "2026-03-01 09:00:00.25", "meal_plan", "0.080000", False),
        ("L2", "+15550000001", "2026-03-01 09:00:30", "meal_plan", "0.071200", True),
        ("L3", "+15550000002", "2026-03-02 08:00:00", "error_handling", "0.001000", True)]
    assert revenue == [("pay-7", "tokens", "5.000000"), ("pay-8", "premium", "9.990000")]
    assert load_sql(db, url, mapping=mapping).rows_written == 0


def test_sqlite_tables_give_the_file_loaders_answers(tmp_path: Path):
    rows = contract_rows(150)
    url = f"sqlite:///{tmp_path / 'source.sqlite'}"
    fill_sql(url, rows)
    db = tmp_path / "sqlite.duckdb"
    result = load_sql(db, url, chunk_rows=100)
    assert result.rows_read == 150 * 6
    assert answers(db) == _reference(tmp_path, rows)
    assert load_sql(db, url).rows_written == 0


def test_unknown_column_in_mapping_is_a_clear_error(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'source.sqlite'}"
    fill_sql(url, contract_rows(2))
    mapping = tmp_path / "m.toml"
    mapping.write_text('[cost_events]\ntable = "cost_events"\n[cost_events.columns]\n'
                       'cost_usd = "price"\n')
    with pytest.raises(ValueError, match="cost_events.cost_usd: no column 'price'"):
        load_sql(tmp_path / "x.duckdb", url, mapping=mapping)


def _cli(*args: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PROFIT_SECRETS": str(tmp_path / "none.toml")}
    return subprocess.run([sys.executable, "-m", "loaders", "sql", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_wrong_password_is_a_clear_error_that_never_shows_a_password(postgres: dict,
                                                                      tmp_path: Path):
    url = postgres["url"].set(password="Wr0ng-Pa55word")
    db = tmp_path / "pg.duckdb"
    with pytest.raises(LoadError) as err:
        load_sql(db, url)
    assert "password authentication failed" in str(err.value)
    assert "Wr0ng-Pa55word" not in str(err.value)
    assert not db.exists()
    proc = _cli("--db", str(db), "--url", url.render_as_string(hide_password=False),
                tmp_path=tmp_path)
    assert proc.returncode == 1
    assert "password authentication failed" in proc.stderr
    assert "postgres:***@127.0.0.1" in proc.stderr
    assert "Wr0ng-Pa55word" not in proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr


def test_bad_url_is_a_clear_error_that_never_shows_a_password(tmp_path: Path):
    for url in ("postgresql://me:Hunter22@127.0.0.1:notaport/db", "no url at all:Hunter22",
                "nosuchdb+driver://me:Hunter22@127.0.0.1/db"):
        proc = _cli("--db", str(tmp_path / "x.duckdb"), "--url", url, tmp_path=tmp_path)
        assert proc.returncode == 1, url
        assert "Hunter22" not in proc.stdout + proc.stderr, url
        assert "Traceback" not in proc.stderr, url
        assert ("not a database URL" in proc.stderr
                or "unknown database type" in proc.stderr), proc.stderr
