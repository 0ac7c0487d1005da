"""The DynamoDB loader against moto's server, with items as the chatbot wrote them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from loaders import _aws, files
from loaders.dynamodb import load_dynamodb, months_since
from loaders.pipeline import LoadError
from tests import sources_fixtures as fx
from tests.sources_fixtures import (
    AWS_ENV,
    answers,
    cost_item,
    create_original_tables,
    ddb_client,
    inject_throttling,
    original_items,
    put_items,
    write_dynamodb_json,
)

# The shared fixtures, bound here so pytest finds them (see tests/sources_fixtures.py).
monkeypatch_module, moto_url, moto = fx.monkeypatch_module, fx.moto_url, fx.moto
ROOT = Path(__file__).resolve().parent.parent
MARCH_8 = datetime(2026, 3, 8, 12)


def _fill(url: str, items: dict, **kwargs) -> dict[str, str]:
    client = ddb_client(url)
    names = create_original_tables(client, "dev", **kwargs)
    for logical, rows in items.items():
        put_items(client, names[logical], rows)
    return names


def _client(url: str, attempts: int = 10):
    return _aws.client("dynamodb", endpoint_url=url, max_attempts=attempts)


def test_load_gives_the_file_loaders_answers_for_the_same_items(moto: str, tmp_path: Path):
    items = original_items(extra_users=60)
    # costs under the -dev name, revenue and tokens under the bare names the service used.
    _fill(moto, items, suffixed=("costs",))
    db = tmp_path / "ddb.duckdb"
    result, plans = load_dynamodb(db, env="dev", endpoint_url=moto, page_size=20, now=MARCH_8)
    by_name = {p.logical: p for p in plans}
    assert by_name["costs"].name == "ai-nutritionist-user-costs-dev"
    assert by_name["revenue"].name == "ai-nutritionist-user-revenue"
    assert "bare name" in by_name["revenue"].describe()
    assert by_name["costs"].pages > 4  # 188 items, 20 a page, over 4 segments
    assert by_name["costs"].items == 8 + 3 * 60
    reference = tmp_path / "files.duckdb"
    files.load_files(reference, write_dynamodb_json(items, tmp_path / "export"))
    assert answers(db) == answers(reference)
    assert result.rows_rejected == 1


def test_costs_stay_exact_and_estimates_pair_as_the_contract_says(moto: str, tmp_path: Path):
    _fill(moto, original_items())
    db = tmp_path / "ddb.duckdb"
    load_dynamodb(db, env="dev", endpoint_url=moto, now=MARCH_8)
    a = answers(db)
    # 7 lines loaded (the negative one refused); the 0.08 estimate is replaced by its
    # completion 45 s later: counted = 0.0712 + 0.001 + 0.002 + 0.05 + 0.004 + 0.08.
    assert a["costs"] == (7, Decimal("0.288200"), Decimal("0.208200"), 6)
    assert a["rejected"] == [("cost_events", "negative cost: -0.01")]
    users = {row[1] for row in a["cost_rows"]}
    assert users == {"+15551230001", "+15551230002"}  # whatsapp: prefix gone
    ts = {row[0]: row[2] for row in a["cost_rows"]}
    assert ts["costs:+15551230001#2026-03-01T09:00:00.123456"] == datetime(
        2026, 3, 1, 9, 0, 0, 123456)
    assert a["revenue"] == [("affiliate", 1, Decimal("1.250000"), None),
                            ("other", 1, Decimal("-5.000000"), None),
                            ("premium", 1, Decimal("9.990000"), None),
                            ("tokens", 1, Decimal("5.000000"), 120)]
    assert a["tokens"] == (2, 95)


def test_second_load_changes_nothing(moto: str, tmp_path: Path):
    _fill(moto, original_items(extra_users=10))
    db = tmp_path / "ddb.duckdb"
    first, _ = load_dynamodb(db, env="dev", endpoint_url=moto, now=MARCH_8)
    before = answers(db)
    second, plans = load_dynamodb(db, env="dev", endpoint_url=moto,
                                  now=datetime(2026, 3, 9))
    assert first.rows_written > 0
    assert second.rows_written == 0
    assert {p.logical: p.mode for p in plans} == {"costs": "query", "revenue": "query",
                                                   "tokens": "scan"}
    assert answers(db) == before


def test_incremental_load_after_new_items_equals_a_full_load(moto: str, tmp_path: Path):
    items = original_items(extra_users=30)
    names = _fill(moto, items)
    db = tmp_path / "incremental.duckdb"
    # The previous load ran on 2 March; its lookback (3 days) reaches into February.
    load_dynamodb(db, env="dev", endpoint_url=moto, now=datetime(2026, 3, 2, 12))
    full = tmp_path / "full.duckdb"
    shutil.copyfile(db, full)  # the same history, then a full scan instead
    b = "whatsapp:+15551230002"
    new_costs = [
        # the completion of the 2026-03-02 08:00 estimate, loaded last time as counted
        cost_item(b, "2026-03-02T08:01:10", "simple_message_completed", "0.0015"),
        # a late write for February: completes the 23:59:30 grocery_list estimate
        cost_item(b, "2026-02-28T23:59:55.000001", "grocery_list_completed", "0.0035"),
        cost_item("+15551230009", "2026-03-08T13:00:00", "dietary_advice", "0.03"),
    ]
    client = ddb_client(moto)
    put_items(client, names["costs"], new_costs)
    put_items(client, names["tokens"], [{"user_phone": "+15551230001", "token_balance": 80,
                                         "last_updated": "2026-03-08T13:00:00",
                                         "month": "2026-03"}])
    result, plans = load_dynamodb(db, env="dev", endpoint_url=moto, now=datetime(2026, 3, 9))
    costs = next(p for p in plans if p.logical == "costs")
    assert costs.mode == "query" and costs.months == ["2026-02", "2026-03", "2026-04"]
    assert result.rows_written == 3 + 1  # 3 new cost lines, 1 new balance snapshot
    load_dynamodb(full, env="dev", endpoint_url=moto, full=True)
    assert answers(db) == answers(full)
    # Events (not balance snapshots, which are history) equal a first load of everything.
    fresh = tmp_path / "fresh.duckdb"
    load_dynamodb(fresh, env="dev", endpoint_url=moto, full=True)
    for key in ("costs", "revenue", "cost_rows", "revenue_rows", "rejected"):
        assert answers(db)[key] == answers(fresh)[key], key
    con = duckdb.connect(str(db), read_only=True)
    counted = con.execute("SELECT counted FROM cost_events WHERE event_id = ?",
                          [f"costs:{b}#2026-03-02T08:00:00"]).fetchone()[0]
    con.close()
    assert counted is False  # re-paired with the completion that arrived later


def test_lookback_reaches_the_previous_month_for_late_writes():
    # A load on 2026-03-01 00:00:30 must still see February's last requests complete.
    assert months_since("2026-03-01T00:00:30", 3, datetime(2026, 3, 1, 6)) == [
        "2026-02", "2026-03", "2026-04"]


def test_month_query_aliases_reserved_words(moto: str, tmp_path: Path):
    _fill(moto, original_items())
    db = tmp_path / "ddb.duckdb"
    load_dynamodb(db, env="dev", endpoint_url=moto, now=MARCH_8)
    client = _client(moto)
    seen: list[dict] = []
    client.meta.events.register("provide-client-params.dynamodb.Query",
                                lambda params, **_: seen.append(dict(params)))
    load_dynamodb(db, env="dev", client=client, now=datetime(2026, 3, 9))
    assert seen, "an incremental load queries the MonthIndex"
    for params in seen:
        assert params["KeyConditionExpression"] == "#month = :month"
        assert params["ExpressionAttributeNames"] == {"#month": "month"}
        assert params["IndexName"] == "MonthIndex"


def test_throttled_first_requests_are_retried_and_the_load_completes(moto: str,
                                                                     tmp_path: Path):
    items = original_items(extra_users=5)
    _fill(moto, items)
    client = _client(moto)
    seen = inject_throttling(client, "Scan", times=3)
    db = tmp_path / "ddb.duckdb"
    result, _ = load_dynamodb(db, env="dev", client=client, now=MARCH_8)
    assert seen["throttled"] == 3
    assert seen["calls"] > 3 + 4  # the throttled calls were sent again
    reference = tmp_path / "files.duckdb"
    files.load_files(reference, write_dynamodb_json(items, tmp_path / "export"))
    assert answers(db) == answers(reference)
    assert result.status == "ok"


def test_a_load_that_keeps_failing_leaves_the_data_and_names_the_table(moto: str,
                                                                        tmp_path: Path):
    names = _fill(moto, original_items())
    db = tmp_path / "ddb.duckdb"
    load_dynamodb(db, env="dev", endpoint_url=moto, now=MARCH_8)
    before = answers(db)
    put_items(ddb_client(moto), names["costs"],
              [cost_item("+15551230007", "2026-03-08T10:00:00", "meal_plan", "0.08")])
    client = _client(moto, attempts=2)
    inject_throttling(client, "Query", times=10_000)
    with pytest.raises(LoadError) as err:
        load_dynamodb(db, env="dev", client=client, now=datetime(2026, 3, 9))
    message = str(err.value)
    assert "costs table ai-nutritionist-user-costs-dev" in message
    assert "ThrottlingException" in message
    assert "database unchanged" in message
    assert answers(db) == before
    con = duckdb.connect(str(db), read_only=True)
    status = con.execute("SELECT status FROM load_log ORDER BY load_id DESC LIMIT 1").fetchone()
    con.close()
    assert status == ("failed",)


def test_missing_table_is_a_clear_error_and_loads_nothing(moto: str, tmp_path: Path):
    client = ddb_client(moto)
    create_original_tables(client, "dev")
    client.delete_table(TableName="ai-nutritionist-user-tokens-dev")
    db = tmp_path / "ddb.duckdb"
    with pytest.raises(LoadError) as err:
        load_dynamodb(db, env="dev", endpoint_url=moto)
    assert ("tokens (tried ai-nutritionist-user-tokens-dev and ai-nutritionist-user-tokens)"
            in str(err.value))
    assert not db.exists()


def test_command_says_which_tables_it_found_and_never_prints_credentials(moto: str,
                                                                          tmp_path: Path):
    _fill(moto, original_items(), suffixed=("costs", "revenue"))
    db = tmp_path / "ddb.duckdb"
    env = {**os.environ, **AWS_ENV, "PROFIT_SECRETS": str(tmp_path / "none.toml")}
    proc = subprocess.run(
        [sys.executable, "-m", "loaders", "dynamodb", "--db", str(db), "--env", "dev",
         "--endpoint-url", moto, "--segments", "2"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "costs: ai-nutritionist-user-costs-dev (the -env name)" in out
    assert "tokens: ai-nutritionist-user-tokens (the bare name; no -env table)" in out
    assert "dynamodb:ai-nutritionist:dev: 14 read, 13 written, 1 rejected" in out
    for secret in AWS_ENV["AWS_ACCESS_KEY_ID"], AWS_ENV["AWS_SECRET_ACCESS_KEY"]:
        assert secret not in proc.stdout + proc.stderr
    missing = subprocess.run(
        [sys.executable, "-m", "loaders", "dynamodb", "--db", str(db), "--env", "prod",
         "--endpoint-url", moto, "--table-prefix", "nope"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert missing.returncode == 1
    assert "DynamoDB table not found" in missing.stderr
    assert "Traceback" not in missing.stderr
