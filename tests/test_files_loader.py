"""The file loader: every format, the contract's quirks, and bad input that loses nothing."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from loaders.files import load_files
from loaders.pipeline import LoadError

ROOT = Path(__file__).resolve().parent.parent
HEADER = "event_id,user_id,ts,action,event_type,cost_usd,counted,category\n"


def rows(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def reasons(db: Path) -> list[str]:
    return [r[0] for r in rows(db, "SELECT reason FROM rejected_rows ORDER BY reason")]


def test_csv_costs_load_exactly(tmp_path: Path) -> None:
    f = write(tmp_path / "costs.csv", HEADER +
              "e1,+15551230001,2026-03-01T09:00:00,meal_plan,meal_plan_completed,0.080001,true,ai\n"
              "e2,+15551230001,2026-03-01T10:00:00,simple_message,x,0.010000,true,messaging\n")
    db = tmp_path / "p.duckdb"
    result = load_files(db, {"cost_events": [str(f)]})
    assert (result.rows_read, result.rows_written, result.rows_rejected) == (2, 2, 0)
    # 0.080001 + 0.010000, exactly
    assert rows(db, "SELECT sum(cost_usd) FROM cost_events") == [(Decimal("0.090001"),)]


def test_reloading_the_same_file_changes_nothing(tmp_path: Path) -> None:
    f = write(tmp_path / "costs.csv", HEADER +
              "e1,+15551230001,2026-03-01T09:00:00,meal_plan,meal_plan,0.08,true,ai\n"
              "e2,,2026-03-01T09:00:00,meal_plan,meal_plan,0.08,true,ai\n")
    db = tmp_path / "p.duckdb"
    load_files(db, {"cost_events": [str(f)]})
    before = rows(db, "SELECT * EXCLUDE (load_id) FROM cost_events ORDER BY event_id")
    second = load_files(db, {"cost_events": [str(f)]})
    assert second.rows_written == 0
    assert rows(db, "SELECT * EXCLUDE (load_id) FROM cost_events ORDER BY event_id") == before
    assert rows(db, "SELECT count(*) FROM rejected_rows") == [(1,)]  # not doubled


def test_bad_rows_are_refused_with_reasons_and_good_rows_load(tmp_path: Path) -> None:
    f = write(tmp_path / "costs.csv", HEADER +
              "ok1,+15551230001,2026-03-01T09:00:00,meal_plan,meal_plan,0.08,true,ai\n"
              "b1,,2026-03-01T09:00:00,meal_plan,meal_plan,0.08,true,ai\n"
              "b2,   ,2026-03-01T09:00:00,meal_plan,meal_plan,0.08,true,ai\n"
              "b3,+15551230001,yesterday-ish,meal_plan,meal_plan,0.08,true,ai\n"
              "ok2,+15551230001,2026-03-01T09:00:00+02:00,meal_plan,meal_plan,0.08,true,ai\n"
              "b4,+15551230001,2026-03-01T09:00:00,meal_plan,meal_plan,eight cents,true,ai\n"
              "b5,+15551230001,2026-03-01T09:00:00,meal_plan,meal_plan,-0.01,true,ai\n"
              "ok1,+15551230001,2026-03-01T11:00:00,meal_plan,meal_plan,0.50,true,ai\n")
    db = tmp_path / "p.duckdb"
    result = load_files(db, {"cost_events": [str(f)]})
    assert (result.rows_read, result.rows_written, result.rows_rejected) == (8, 2, 6)
    assert reasons(db) == [
        "cost is not a number: eight cents",
        "duplicate key within this load: ok1",
        "missing user",
        "missing user",
        "negative cost: -0.01",
        "timestamp does not parse: yesterday-ish",
    ]
    # the +02:00 instant is stored in UTC; the first ok1 (0.08) wins over its duplicate
    assert rows(db, "SELECT event_id, ts::VARCHAR, cost_usd FROM cost_events ORDER BY 1") == [
        ("ok1", "2026-03-01 09:00:00", Decimal("0.080000")),
        ("ok2", "2026-03-01 07:00:00", Decimal("0.080000")),
    ]


def test_duplicate_event_id_across_loads_is_updated_not_duplicated(tmp_path: Path) -> None:
    db = tmp_path / "p.duckdb"
    a = write(tmp_path / "a.csv", HEADER +
              "e1,+15551230001,2026-03-01T09:00:00,meal_plan,meal_plan,0.08,true,ai\n")
    b = write(tmp_path / "b.csv", HEADER +
              "e1,+15551230001,2026-03-01T09:00:00,meal_plan,meal_plan,0.09,true,ai\n")
    load_files(db, {"cost_events": [str(a)]})
    load_files(db, {"cost_events": [str(b)]})
    assert rows(db, "SELECT event_id, cost_usd FROM cost_events") == [("e1", Decimal("0.09"))]


def test_unknown_column_set_is_refused_row_by_row(tmp_path: Path) -> None:
    f = write(tmp_path / "costs.csv", "name,amount\nalice,3\nbob,4\n")
    db = tmp_path / "p.duckdb"
    result = load_files(db, {"cost_events": [str(f)]})
    assert (result.rows_written, result.rows_rejected) == (0, 2)
    assert reasons(db) == ["unknown column set: missing event_id, user_id, ts, cost_usd"] * 2


def test_empty_file_loads_nothing_and_says_so(tmp_path: Path) -> None:
    f = write(tmp_path / "costs.csv", "")
    db = tmp_path / "p.duckdb"
    result = load_files(db, {"cost_events": [str(f)]})
    assert (result.rows_read, result.rows_written, result.status) == (0, 0, "ok")


def test_missing_file_is_a_clear_error_and_writes_nothing(tmp_path: Path) -> None:
    db = tmp_path / "p.duckdb"
    proc = subprocess.run([sys.executable, "-m", "loaders", "files", "--db", str(db),
                           "--costs", str(tmp_path / "nope.csv")],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 1
    assert "nope.csv: no such file" in proc.stderr
    assert not db.exists()


def test_truncated_gzip_fails_the_load_and_keeps_the_data(tmp_path: Path) -> None:
    db = tmp_path / "p.duckdb"
    good = write(tmp_path / "good.csv", HEADER +
                 "e1,+15551230001,2026-03-01T09:00:00,meal_plan,meal_plan,0.08,true,ai\n")
    load_files(db, {"cost_events": [str(good)]})
    body = HEADER + "".join(
        f"t{i},+15551230001,2026-03-02T09:00:00,meal_plan,meal_plan,0.01,true,ai\n"
        for i in range(5000))
    packed = gzip.compress(body.encode())
    bad = tmp_path / "cut.csv.gz"
    bad.write_bytes(packed[: len(packed) // 2])
    with pytest.raises(LoadError, match="cut.csv.gz: truncated or corrupt gzip"):
        load_files(db, {"cost_events": [str(bad)]})
    assert rows(db, "SELECT event_id FROM cost_events") == [("e1",)]
    assert rows(db, "SELECT status FROM load_log ORDER BY load_id") == [("ok",), ("failed",)]


def test_parquet_jsonl_and_gzip_give_the_same_rows_as_csv(tmp_path: Path) -> None:
    frame = pd.DataFrame({
        "event_id": ["e1", "e2"], "user_id": ["+15551230001", "whatsapp:+1 555-123-0002"],
        "ts": ["2026-03-01T09:00:00", "2026-03-01T10:00:00.5"], "action": ["meal_plan", ""],
        "event_type": ["meal_plan_completed", "grocery_list_completed"],
        "cost_usd": ["0.083", "0.021"], "counted": ["true", "true"], "category": ["ai", "ai"]})
    frame.to_csv(tmp_path / "c.csv", index=False)
    frame.to_parquet(tmp_path / "c.parquet", index=False)
    with gzip.open(tmp_path / "c.jsonl.gz", "wt") as fh:
        for rec in frame.to_dict("records"):
            fh.write(json.dumps(rec) + "\n")
    got = []
    for name in ("c.csv", "c.parquet", "c.jsonl.gz"):
        db = tmp_path / f"{name}.duckdb"
        load_files(db, {"cost_events": [str(tmp_path / name)]})
        got.append(rows(db, "SELECT event_id, user_id, ts, action, cost_usd FROM cost_events "
                            "ORDER BY event_id"))
    assert got[0] == got[1] == got[2]
    assert got[0][1][1:4] == ("+15551230002", got[0][1][2], "grocery_list")


def ddb_line(item: dict) -> str:
    def typed(v: object) -> dict:
        if isinstance(v, dict):
            return {"M": {k: typed(x) for k, x in v.items()}}
        if isinstance(v, bool):
            return {"BOOL": v}
        if isinstance(v, int | float | Decimal):
            return {"N": str(v)}
        return {"S": v}
    return json.dumps({"Item": {k: typed(v) for k, v in item.items()}}) + "\n"


def test_dynamodb_json_export_maps_as_the_contract_says(tmp_path: Path) -> None:
    phone = "whatsapp:+1 555-123-0001"
    costs = tmp_path / "costs.json"
    costs.write_text("".join(ddb_line(i) for i in [
        # estimate then its actual 90 s later: the estimate does not count
        {"user_phone": phone, "timestamp": "2026-03-01T09:00:00.123456", "event_type": "meal_plan",
         "cost_details": {"interaction_cost": "0.08"}, "actual_cost": Decimal("0.08"),
         "month": "2026-03", "ttl": 1780000000},
        {"user_phone": phone, "timestamp": "2026-03-01T09:01:30", "event_type":
         "meal_plan_completed", "actual_cost": Decimal("0.0731"), "month": "2026-03"},
        # an estimate with no completion counts
        {"user_phone": phone, "timestamp": "2026-03-01T12:00:00", "event_type": "grocery_list",
         "actual_cost": Decimal("0.02"), "month": "2026-03"},
        {"user_phone": phone, "timestamp": "2026-03-01T12:05:00", "event_type": "error_handling",
         "actual_cost": Decimal("0.001"), "month": "2026-03"},
        {"user_phone": phone, "timestamp": "2026-03-01T13:00:00",
         "event_type": "meal_plan_generation", "cost_details": {"ai_tokens": 1500, "api_calls": 3},
         "actual_cost": Decimal("0.05"), "month": "2026-03"},
    ]))
    revenue = tmp_path / "revenue.json.gz"
    with gzip.open(revenue, "wt") as fh:
        fh.write(ddb_line({"user_phone": "+15551230001", "timestamp": "2026-03-02T08:00:00",
                           "revenue_type": "token_purchase", "revenue_amount": Decimal("5.00"),
                           "details": {"tokens_purchased": 120, "payment_method": "stripe",
                                       "bonus_applied": True},
                           "month": "2026-03", "ttl": 1800000000}))
        fh.write(ddb_line({"user_phone": "+15551230001", "timestamp": "2026-03-03T08:00:00",
                           "revenue_type": "family_plan", "revenue_amount": Decimal("15"),
                           "month": "2026-03"}))
    tokens = tmp_path / "tokens.json"
    tokens.write_text(ddb_line({"user_phone": "+15551230001", "token_balance": 95,
                                "last_updated": "2026-03-02T09:00:00", "month": "2026-03"}))
    db = tmp_path / "p.duckdb"
    result = load_files(db, {"cost_events": [str(costs)], "revenue_events": [str(revenue)],
                             "token_balances": [str(tokens)]}, fmt="dynamodb-json")
    assert result.rows_rejected == 0
    assert rows(db, "SELECT user_id, action, event_type, cost_usd, counted FROM cost_events "
                    "ORDER BY ts") == [
        ("+15551230001", "meal_plan", "meal_plan", Decimal("0.08"), False),
        ("+15551230001", "meal_plan", "meal_plan_completed", Decimal("0.0731"), True),
        ("+15551230001", "grocery_list", "grocery_list", Decimal("0.02"), True),
        ("+15551230001", "error_handling", "error_handling", Decimal("0.001"), True),
        ("+15551230001", "meal_plan", "meal_plan_generation", Decimal("0.05"), True),
    ]
    # counted: 0.0731 + 0.02 + 0.001 + 0.05 = 0.1441
    assert rows(db, "SELECT sum(cost_usd) FROM cost_events WHERE counted") == [
        (Decimal("0.144100"),)]
    assert rows(db, "SELECT stream, amount_usd, tokens FROM revenue_events ORDER BY ts") == [
        ("tokens", Decimal("5.00"), 120), ("premium", Decimal("15.00"), None)]
    assert rows(db, "SELECT user_id, as_of::VARCHAR, balance FROM token_balances") == [
        ("+15551230001", "2026-03-02 09:00:00", 95)]


def test_estimate_paired_across_two_loads_comes_out_as_in_one(tmp_path: Path) -> None:
    phone = "+15551230001"
    est = {"user_phone": phone, "timestamp": "2026-03-01T09:00:00", "event_type": "meal_plan",
           "actual_cost": Decimal("0.08")}
    done = {"user_phone": phone, "timestamp": "2026-03-01T09:02:00",
            "event_type": "meal_plan_completed", "actual_cost": Decimal("0.07")}
    (tmp_path / "a.json").write_text(ddb_line(est))
    (tmp_path / "b.json").write_text(ddb_line(done))
    db = tmp_path / "p.duckdb"
    load_files(db, {"cost_events": [str(tmp_path / "a.json")]})
    assert rows(db, "SELECT counted FROM cost_events") == [(True,)]
    load_files(db, {"cost_events": [str(tmp_path / "b.json")]})
    # exactly two minutes later is "within two minutes": the estimate stops counting
    assert rows(db, "SELECT event_type, counted FROM cost_events ORDER BY ts") == [
        ("meal_plan", False), ("meal_plan_completed", True)]


def test_completion_after_the_next_estimate_does_not_pair(tmp_path: Path) -> None:
    phone = "+15551230001"
    items = [
        {"user_phone": phone, "timestamp": "2026-03-01T09:00:00", "event_type": "meal_plan",
         "actual_cost": Decimal("0.08")},
        {"user_phone": phone, "timestamp": "2026-03-01T09:00:30", "event_type": "simple_message",
         "actual_cost": Decimal("0.01")},
        {"user_phone": phone, "timestamp": "2026-03-01T09:01:00",
         "event_type": "meal_plan_completed", "actual_cost": Decimal("0.07")},
        {"user_phone": phone, "timestamp": "2026-03-01T10:00:00", "event_type": "meal_plan",
         "actual_cost": Decimal("0.08")},
        {"user_phone": phone, "timestamp": "2026-03-01T10:02:00.000001",
         "event_type": "meal_plan_completed", "actual_cost": Decimal("0.07")},
    ]
    (tmp_path / "c.json").write_text("".join(ddb_line(i) for i in items))
    db = tmp_path / "p.duckdb"
    load_files(db, {"cost_events": [str(tmp_path / "c.json")]})
    # first meal_plan: its completion comes after the next estimate -> counts;
    # the 10:00 one: completion 2 min + 1 µs later -> outside the window, counts.
    assert [r[0] for r in rows(db, "SELECT counted FROM cost_events ORDER BY ts")] == [
        True, True, True, True, True]


def test_an_affiliate_kind_is_read_tidied_and_an_unknown_one_refused(tmp_path: Path) -> None:
    path = tmp_path / "affiliate.csv"
    path.write_text("event_id,user_id,ts,partner,kind\n"
                    "a1,+15551230001,2026-03-01T00:00:00,p, Click\u00a0\n"
                    "a2,+15551230001,2026-03-01T00:00:00,p,nope\n", encoding="utf-8")
    db = tmp_path / "a.duckdb"
    result = load_files(db, {"affiliate_events": [str(path)]})
    assert (result.rows_written, result.rows_rejected) == (1, 1)
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT event_id, kind FROM affiliate_events").fetchall() == [
            ("a1", "click")]
        assert con.execute("SELECT reason FROM rejected_rows").fetchall() == [
            ("unknown affiliate kind: nope",)]
