"""Incremental loads equal a full load, or say exactly what they could not see (issue 16.5),
and `postgresql://` URLs load through psycopg 3 as a user types them (issue 11.7)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
import sqlalchemy as sa

from loaders.dynamodb import load_dynamodb
from loaders.sql import TablePlan, load_sql
from tests import sources_fixtures as fx
from tests.sources_fixtures import (
    answers,
    cost_item,
    create_original_tables,
    ddb_client,
    original_items,
    put_items,
)

postgres = fx.postgres
monkeypatch_module, moto_url, moto = fx.monkeypatch_module, fx.moto_url, fx.moto
ROOT = Path(__file__).resolve().parent.parent
DDL = "event_id TEXT PRIMARY KEY, user_id TEXT, ts {ts}, action TEXT, cost_usd NUMERIC(18, 6)"


def _fresh_database(info: dict, name: str) -> sa.URL:
    admin = sa.create_engine(info["url"], isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return info["url"].set(database=name)


def _insert(url: sa.URL | str, rows: list[tuple], ts_type: str | None = None) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        if ts_type:
            conn.execute(sa.text(f"CREATE TABLE cost_events ({DDL.format(ts=ts_type)})"))
        for row in rows:
            conn.execute(sa.text("INSERT INTO cost_events VALUES (:i, :u, :t, 'meal_plan', :c)"),
                         {"i": row[0], "u": "+15551230001", "t": row[1], "c": row[2]})
    engine.dispose()


def _held(db: Path) -> tuple[list[str], list[str]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        ids = [r[0] for r in con.sql("SELECT event_id FROM cost_events ORDER BY 1").fetchall()]
        refused = [r[0] for r in con.sql("SELECT reason FROM rejected_rows ORDER BY 1").fetchall()]
    finally:
        con.close()
    return ids, refused


def _incremental_then_full(url: sa.URL | str, tmp_path: Path, later: list[tuple]
                           ) -> tuple[tuple, tuple, list[TablePlan]]:
    db = tmp_path / "inc.duckdb"
    load_sql(db, url, now=datetime(2026, 3, 1))
    _insert(url, later)
    plans: list[TablePlan] = []
    load_sql(db, url, now=datetime(2026, 3, 2), plans_out=plans)
    full = tmp_path / "full.duckdb"
    load_sql(full, url, full=True)
    return _held(db), _held(full), plans


def test_null_and_infinite_timestamps_neither_hide_rows_nor_vanish(postgres: dict,
                                                                   tmp_path: Path) -> None:
    url = _fresh_database(postgres, "hostile_ts")
    _insert(url, [("a", "2026-03-01 09:00:00", "0.01"), ("inf", "infinity", "0.01"),
                  ("nul", None, "0.01")], ts_type="TIMESTAMP")
    # After the first load: a NULL ts and a later row (an incremental read must see both),
    # and a row earlier than `infinity`, which must not have become the watermark.
    inc, full, plans = _incremental_then_full(url, tmp_path, [
        ("b", "2026-03-02 09:00:00", "0.02"), ("nul2", None, "0.02")])
    assert plans[0].why == "incremental"
    assert inc == full
    assert inc[0] == ["a", "b"]
    assert inc[1] == ["missing timestamp", "missing timestamp",
                      "timestamp out of range: infinity (accepted: 2000-01-01 to before "
                      "2100-01-01)"]


def test_text_timestamps_are_not_compared_as_strings(postgres: dict, tmp_path: Path) -> None:
    url = _fresh_database(postgres, "text_ts")
    # As text, '2026-03-01 9:30' sorts after '2026-03-01 10:00': a string watermark at
    # '9:30' would lose the 10:00 row added later.
    _insert(url, [("a", "2026-03-01 9:30:00", "0.01"), ("garbage", "zzz", "0.01")],
            ts_type="TEXT")
    inc, full, plans = _incremental_then_full(url, tmp_path, [
        ("b", "2026-03-01 10:00:00", "0.02")])
    assert inc == full
    assert inc[0] == ["a", "b"]
    assert inc[1] == ["timestamp does not parse: zzz"]
    assert plans[0].since is None
    assert "compares as text, not time; read whole each load" in plans[0].why


def test_sqlite_timestamps_are_text_so_every_load_reads_them_whole(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.sqlite'}"
    _insert(url, [("a", "2026-03-01 9:30:00", "0.01")], ts_type="TIMESTAMP")
    inc, full, plans = _incremental_then_full(url, tmp_path, [
        ("b", "2026-03-01 10:00:00", "0.02")])
    assert inc == full and inc[0] == ["a", "b"]
    assert plans[0].describe().startswith("cost_events: cost_events: every row (ts is text")


def test_a_row_written_late_with_an_old_timestamp_is_read_by_the_reconciliation(
        postgres: dict, tmp_path: Path) -> None:
    url = _fresh_database(postgres, "late")
    _insert(url, [("a", "2026-03-02 09:00:00", "0.01")], ts_type="TIMESTAMP")
    db = tmp_path / "p.duckdb"
    load_sql(db, url, now=datetime(2026, 3, 2))
    _insert(url, [("old", "2026-03-01 09:00:00", "0.02")])  # behind the watermark
    plans: list[TablePlan] = []
    load_sql(db, url, now=datetime(2026, 3, 8), plans_out=plans)  # 6 days: incremental
    assert plans[0].why == "incremental" and _held(db)[0] == ["a"]  # the one thing unseen
    plans.clear()
    load_sql(db, url, now=datetime(2026, 3, 9), plans_out=plans)  # 7 days: a whole read
    assert plans[0].why == "reconciliation: last whole read 2026-03-02T00:00:00"
    assert _held(db)[0] == ["a", "old"]


def test_plain_postgresql_url_as_typed_loads_through_psycopg3(postgres: dict, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch
                                                              ) -> None:
    url = _fresh_database(postgres, "typed_url")
    _insert(url, [("a", "2026-03-01 09:00:00", "0.080001")], ts_type="TIMESTAMPTZ")
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text("CREATE ROLE analyst LOGIN PASSWORD 'an@lyst/pw'"))
        conn.execute(sa.text("GRANT SELECT ON cost_events TO analyst"))
    admin.dispose()
    # The password lives where libpq looks for it, not in the URL the user types.
    passfile = tmp_path / "pgpass"
    passfile.write_text(f"127.0.0.1:{postgres['port']}:typed_url:analyst:an@lyst/pw\n")
    passfile.chmod(0o600)
    monkeypatch.setenv("PGPASSFILE", str(passfile))
    typed = f"postgresql://analyst@127.0.0.1:{postgres['port']}/typed_url"
    db = tmp_path / "p.duckdb"
    result = load_sql(db, typed)
    assert (result.rows_written, result.rows_rejected) == (1, 0)
    assert result.source == f"sql:{typed}"
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT cost_usd::VARCHAR FROM cost_events").fetchall() == [("0.080001",)]
    con.close()
    # The command line, as typed, with the password (holding @ and /) in the URL instead.
    proc = subprocess.run(
        [sys.executable, "-m", "loaders", "sql", "--db", str(tmp_path / "cli.duckdb"), "--url",
         f"postgresql://analyst:an@lyst/pw@127.0.0.1:{postgres['port']}/typed_url"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={"PATH": "/usr/bin:/bin", "PROFIT_SECRETS": str(tmp_path / "none.toml")})
    assert proc.returncode == 0, proc.stderr
    assert "1 written" in proc.stdout
    assert "an@lyst" not in proc.stdout + proc.stderr


def test_psycopg2_urls_keep_working(postgres: dict, tmp_path: Path) -> None:
    url = _fresh_database(postgres, "psycopg2_url")
    _insert(url, [("a", "2026-03-01 09:00:00", "0.01")], ts_type="TIMESTAMP")
    assert url.drivername == "postgresql+psycopg2"
    assert load_sql(tmp_path / "p.duckdb", url).rows_written == 1


# --------------------------------------------------------------------------- DynamoDB


def test_dynamodb_items_outside_month_index_are_found_by_scans(moto: str,
                                                               tmp_path: Path) -> None:
    client = ddb_client(moto)
    names = create_original_tables(client, "dev")
    items = original_items()
    for logical, rows in items.items():
        put_items(client, names[logical], rows)
    db = tmp_path / "ddb.duckdb"
    _, first = load_dynamodb(db, env="dev", endpoint_url=moto, now=datetime(2026, 3, 2))
    costs = next(p for p in first if p.logical == "costs")
    assert (costs.mode, costs.misfiled) == ("scan", 0)
    assert costs.describe().endswith("full scan (first load): 8 items; all in MonthIndex")
    # The service writes one line without `month`, and one under a month not its own.
    no_month = cost_item("+15551230007", "2026-03-03T09:00:00", "meal_plan", "0.08")
    del no_month["month"]
    wrong = cost_item("+15551230008", "2026-03-03T09:00:00", "meal_plan", "0.09")
    wrong["month"] = "2025-01"
    put_items(client, names["costs"], [no_month, wrong])
    # Six days after the scan the load is incremental and says what it cannot see...
    _, plans = load_dynamodb(db, env="dev", endpoint_url=moto, now=datetime(2026, 3, 8))
    costs = next(p for p in plans if p.logical == "costs")
    assert costs.mode == "query"
    assert ("not seen: items written since the full scan of 2026-03-02T00:00:00 without "
            "their timestamp's month") in costs.describe()
    # ...and the reconciling scan (7 days) reads them, counts them and keeps scanning.
    _, plans = load_dynamodb(db, env="dev", endpoint_url=moto, now=datetime(2026, 3, 9))
    costs = next(p for p in plans if p.logical == "costs")
    assert (costs.mode, costs.misfiled) == ("scan", 2)
    assert costs.why == "reconciliation: last full scan 2026-03-02T00:00:00"
    _, plans = load_dynamodb(db, env="dev", endpoint_url=moto, now=datetime(2026, 3, 10))
    costs = next(p for p in plans if p.logical == "costs")
    assert costs.why == "its last scan found 2 items without their timestamp's month"
    full = tmp_path / "full.duckdb"
    load_dynamodb(full, env="dev", endpoint_url=moto, full=True)
    assert answers(db) == answers(full)
    shutil.rmtree(tmp_path, ignore_errors=True)
