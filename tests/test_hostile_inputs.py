"""Issue 16, items 3, 4, 6 and 7: hostile values, lines and policies are refused with their
reason (and line), the rest loads, and no page or command shows a traceback."""

from __future__ import annotations

import base64
import gzip
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from core import secrecy
from enforcement.policy import Policy, PolicyError, load_policy, parse_toml
from loaders.files import load_files
from loaders.sql import default_source, mask_url, parse_url
from tests.enforcement_fixtures import seed_policy

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "enforcement" / "policies" / "seed-default.toml"
HEADER = "event_id,user_id,ts,action,cost_usd\n"
GOOD = "{id},+15551230001,2026-03-01T09:00:00,meal_plan,0.08\n"


@pytest.fixture(autouse=True)
def _no_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROFIT_SECRETS", str(tmp_path / "none.toml"))


def _q(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _refused(db: Path) -> list[tuple[str, str]]:
    return _q(db, "SELECT reason, raw_record FROM rejected_rows ORDER BY reason")


# -- 3: money is a plain decimal with at most 6 places ------------------------------------------
@pytest.mark.parametrize(("cost", "reason"), [
    ("-0.0000001", "negative cost: -0.0000001"),
    ("0.0000001", "cost has more than 6 decimal places: 0.0000001"),
    ("0.1234567", "cost has more than 6 decimal places: 0.1234567"),
    ("1e13", "cost is not a plain decimal: 1e13"),
    ("1E-3", "cost is not a plain decimal: 1E-3"),
    ("inf", "cost is not a plain decimal: inf"),
    ("NaN", "cost is not a plain decimal: NaN"),
    ("+5", "cost is not a plain decimal: +5"),
    (".5", "cost is not a plain decimal: .5"),
    ("1_000", "cost is not a plain decimal: 1_000"),
    ("0x10", "cost is not a number: 0x10"),
    ("10000000000000", "cost out of range: 10000000000000 (at most 999999999999.999999)"),
    ("0.080000000", None),  # zeros past the sixth place lose nothing
    ("999999999999.999999", None),
    ("-0", None),
])
def test_money_that_a_cost_export_never_writes_is_refused_with_its_reason(
        tmp_path: Path, cost: str, reason: str | None) -> None:
    f = tmp_path / "c.csv"
    f.write_text(HEADER + GOOD.format(id="ok") + f"x,+15551230001,2026-03-01,meal_plan,{cost}\n")
    db = tmp_path / "p.duckdb"
    load_files(db, {"cost_events": [str(f)]})
    assert [r[0] for r in _refused(db)] == ([reason] if reason else [])
    if reason is None:
        assert _q(db, "SELECT cost_usd FROM cost_events WHERE event_id = 'x'") == [
            (Decimal(cost),)]


def test_refunds_may_be_negative_but_not_finer_than_a_micro_dollar(tmp_path: Path) -> None:
    f = tmp_path / "r.csv"
    f.write_text("event_id,user_id,ts,stream,amount_usd\n"
                 "r1,+15551230001,2026-03-01,tokens,-4.99\n"
                 "r2,+15551230001,2026-03-01,tokens,-0.0000001\n"
                 "r3,+15551230001,2026-03-01,tokens,5e0\n")
    db = tmp_path / "p.duckdb"
    load_files(db, {"revenue_events": [str(f)]})
    assert _q(db, "SELECT event_id, amount_usd FROM revenue_events") == [
        ("r1", Decimal("-4.99"))]
    assert [r[0] for r in _refused(db)] == [
        "amount has more than 6 decimal places: -0.0000001",
        "amount is not a plain decimal: 5e0"]


# -- 4: one bad line or item costs only itself -------------------------------------------------
def test_a_non_utf8_byte_costs_its_csv_line_only(tmp_path: Path) -> None:
    f = tmp_path / "c.csv"
    f.write_bytes((HEADER + GOOD.format(id="a")).encode()
                  + b"b,+1555\xff1230001,2026-03-01,meal_plan,0.08\n"
                  + GOOD.format(id="c").encode())
    db = tmp_path / "p.duckdb"
    result = load_files(db, {"cost_events": [str(f)]})
    assert (result.status, result.rows_read, result.rows_written) == ("ok", 3, 2)
    assert _refused(db) == [("not UTF-8 text: line 3, byte 0xff at column 8",
                             "b,+1555\\xff1230001,2026-03-01,meal_plan,0.08")]


def test_a_jsonl_file_whose_first_line_is_an_array_loads_its_other_lines(tmp_path: Path) -> None:
    row = {"event_id": "j2", "user_id": "+15551230001", "ts": "2026-03-01T09:00:00",
           "action": "meal_plan", "cost_usd": "0.08"}
    f = tmp_path / "c.jsonl"
    f.write_text(json.dumps([row]) + "\n" + json.dumps(row) + "\nnot json\n")
    db = tmp_path / "p.duckdb"
    result = load_files(db, {"cost_events": [str(f)]})
    assert (result.rows_read, result.rows_written) == (3, 1)
    reasons = [r[0] for r in _refused(db)]
    assert reasons[0] == "not JSON: line 3: Expecting value: line 1 column 1 (char 0)"
    assert reasons[1] == "not a JSON object: line 1 is an array"


def _item(ts: str, cost: str, **extra: dict) -> str:
    return json.dumps({"Item": {"user_phone": {"S": "+15551230001"}, "timestamp": {"S": ts},
                                "event_type": {"S": "meal_plan"}, "actual_cost": {"N": cost},
                                "month": {"S": ts[:7]}, **extra}}) + "\n"


def test_dynamodb_export_with_binaries_and_oversized_numbers_loads_the_rest(
        tmp_path: Path) -> None:
    photo = base64.b64encode(b"\x89PNG\r\n").decode()
    f = tmp_path / "costs.json.gz"
    with gzip.open(f, "wt") as fh:
        fh.write(_item("2026-03-01T09:00:00", "0.08", avatar={"B": photo},
                       thumbs={"BS": [photo]}))
        fh.write(_item("2026-03-01T09:00:01", "1" + "0" * 40))
        fh.write(_item("2026-03-01T09:00:02", "1E+400000000"))
        fh.write(_item("2026-03-01T09:00:03", "0.01", avatar={"B": "not base64!"}))
        fh.write(_item("2026-03-01T09:00:04", "0.02"))
    db = tmp_path / "p.duckdb"
    result = load_files(db, {"cost_events": [str(f)]}, fmt="dynamodb-json")
    assert (result.status, result.rows_read, result.rows_written) == ("ok", 5, 2)
    assert _q(db, "SELECT cost_usd FROM cost_events ORDER BY ts") == [
        (Decimal("0.08"),), (Decimal("0.02"),)]
    assert [r[0] for r in _refused(db)] == [
        "unreadable DynamoDB item: line 2: number past DynamoDB's range (38 digits, 1E-130 "
        "to 9.9E+125): 10000000000000000000…",
        "unreadable DynamoDB item: line 3: number past DynamoDB's range (38 digits, 1E-130 "
        "to 9.9E+125): 1E+400000000",
        "unreadable DynamoDB item: line 4: a binary (B) value is not base64"]


def test_a_dynamodb_number_too_large_for_money_is_refused_as_a_value(tmp_path: Path) -> None:
    f = tmp_path / "costs.json"
    f.write_text(_item("2026-03-01T09:00:00", "1E+13") + _item("2026-03-01T09:00:01", "0.5"))
    db = tmp_path / "p.duckdb"
    assert load_files(db, {"cost_events": [str(f)]}).rows_written == 1
    assert [r[0] for r in _refused(db)] == [
        "cost out of range: 10000000000000 (at most 999999999999.999999)"]


def test_a_stray_quote_costs_its_own_line_not_the_rest_of_the_file(tmp_path: Path) -> None:
    f = tmp_path / "c.csv"
    f.write_text(HEADER + 'a,"+15551230001,2026-03-01,meal_plan,0.08\n'
                 + "".join(GOOD.format(id=f"g{i}") for i in range(3)))
    db = tmp_path / "p.duckdb"
    result = load_files(db, {"cost_events": [str(f)]})
    assert result.rows_written == 3
    assert _refused(db) == [("wrong number of fields: line 2 has 2, the header has 5",
                             'a,"+15551230001,2026-03-01,meal_plan,0.08')]


# -- 7: smaller gaps ---------------------------------------------------------------------------
def test_a_duplicate_csv_header_refuses_that_files_rows_clearly(tmp_path: Path) -> None:
    dup = tmp_path / "dup.csv"
    dup.write_text("event_id,user_id,ts,action,cost_usd,cost_usd\n"
                   "d1,+15551230001,2026-03-01,meal_plan,0.08,0.09\n")
    ok = tmp_path / "ok.csv"
    ok.write_text(HEADER + GOOD.format(id="k"))
    db = tmp_path / "p.duckdb"
    result = load_files(db, {"cost_events": [str(dup), str(ok)]})
    assert result.rows_written == 1  # the other file loads
    assert _refused(db) == [("duplicate column in the header: cost_usd (line 1 of dup.csv)",
                             "d1,+15551230001,2026-03-01,meal_plan,0.08,0.09")]


def test_a_bom_before_the_first_jsonl_line_costs_nothing(tmp_path: Path) -> None:
    row = {"event_id": "b1", "user_id": "+15551230001", "ts": "2026-03-01T09:00:00",
           "action": "meal_plan", "cost_usd": "0.08"}
    f = tmp_path / "c.jsonl"
    f.write_bytes(b"\xef\xbb\xbf" + json.dumps(row).encode() + b"\n")
    db = tmp_path / "p.duckdb"
    assert load_files(db, {"cost_events": [str(f)]}).rows_written == 1


def test_a_refused_rows_raw_record_is_kept_exactly_as_it_came(tmp_path: Path) -> None:
    line = 'x,+15551230001, 2026-03-01 ,meal_plan,-1,"extra, quoted"'
    csv_file = tmp_path / "c.csv"
    csv_file.write_text("event_id,user_id,ts,action,cost_usd,note\n" + line + "\r\n")
    json_line = '{"event_id": "y", "user_id": "+15551230001", "ts": "2026-03-01", ' \
                '"cost_usd": -1, "action": "a", "unknown": [1, 2]}'
    json_file = tmp_path / "c.jsonl"
    json_file.write_text(json_line + "\n")
    db = tmp_path / "p.duckdb"
    load_files(db, {"cost_events": [str(csv_file), str(json_file)]})
    assert sorted(r[1] for r in _refused(db)) == sorted([line, json_line])


@pytest.mark.parametrize("url", [
    "postgresql://reader:p@ss@db.internal:5432/finance",
    "postgresql+psycopg2://reader:a/b@c:d@db.internal/finance",
])
def test_a_url_password_holding_at_is_masked_whole(url: str) -> None:
    password = url.split("reader:", 1)[1].rsplit("@", 1)[0]
    for shown in (secrecy.safe_url(url), mask_url(url),
                  secrecy.redact(f"cannot connect to {url}: refused", []),
                  default_source(parse_url(url))):
        assert "db.internal" in shown
        assert password not in shown and password.split("@")[-1] not in shown, shown
    assert parse_url(url).password == password and parse_url(url).host == "db.internal"
    assert password in secrecy.secret_values({"sources": {"x": {"link": url}}})


# -- 6: absurd policies are refused with the key's name ----------------------------------------
@pytest.mark.parametrize(("change", "key", "fragment"), [
    ({"thresholds.cutoff": "1e999999"}, "thresholds.cutoff", "too large an amount"),
    ({"profit.target": "1e30"}, "profit.target", "at most 1000000000.00 USD"),
    ({"profit.target": 10 ** 30}, "profit.target", "too large an amount"),
    ({"tokens.free_monthly": 2 ** 63}, "tokens.free_monthly", "at most 1,000,000,000"),
    ({"tokens.cost.meal_plan": 10 ** 10}, "tokens.cost.meal_plan", "at most 1,000,000,000"),
    ({"tokens.bonus_pct": 1001}, "tokens.bonus_pct", "at most 1,000"),
    ({"affiliate.unlock_hours": 10 ** 7}, "affiliate.unlock_hours", "at most 1,000,000"),
    ({"tokens.cost.default": "1e400"}, "tokens.cost.default", "whole number"),
    ({"name": "x" * 500}, "name", "at most 200 characters"),
])
def test_every_number_in_a_policy_is_bounded(change: dict, key: str, fragment: str) -> None:
    with pytest.raises(PolicyError) as info:
        seed_policy().with_changes(change)
    assert [k for k, _ in info.value.errors] == [key]
    assert fragment in info.value.errors[0][1]


def test_the_largest_bounded_policy_still_replays_in_int64() -> None:
    big = seed_policy().with_changes({
        "thresholds.free_tier": "1000000000", "thresholds.warning": "1000000000",
        "thresholds.restriction": "1000000000", "thresholds.cutoff": "1000000000",
        "profit.target": "1000000000", "tokens.free_monthly": 10 ** 9})
    assert big.cutoff == 10 ** 15 and big.free_monthly == 10 ** 9


DEEP = "x = " + "[" * 5000 + "]" * 5000


@pytest.mark.parametrize(("text", "message"), [
    (DEEP, "(file): nested too deeply to be a policy"),
    ("x = 1" + "0" * 5000, "(file): not a policy: Exceeds the limit"),
    ("[tokens.cost.a.b]\nc = 1", "tokens.cost.a: nested too deeply"),
])
def test_absurd_toml_is_a_policy_error(text: str, message: str) -> None:
    with pytest.raises(PolicyError) as info:
        Policy.from_dict(parse_toml(text))
    assert message in str(info.value)


ABSURD = {
    "deep.toml": DEEP.encode(),
    "huge-money.toml": SEED.read_bytes().replace(b'cutoff = "2.00"', b'cutoff = "1e999999"'),
    "float-money.toml": SEED.read_bytes().replace(b'cutoff = "2.00"', b"cutoff = 1e999999"),
    "int64.toml": SEED.read_bytes().replace(b"free_monthly = 100",
                                            b"free_monthly = 99999999999999999999"),
    "1e30.toml": SEED.read_bytes().replace(b'cutoff = "2.00"', b'cutoff = "1e30"'),
}


def test_seed_file_holds_the_values_the_absurd_ones_replace() -> None:
    for name, body in ABSURD.items():
        assert body != SEED.read_bytes() or name == "deep.toml"
    assert load_policy(SEED).cutoff == 2_000_000


@pytest.mark.parametrize("name", sorted(ABSURD))
def test_replay_command_refuses_an_absurd_policy_in_one_line(name: str, tmp_path: Path,
                                                             demo_db: Path) -> None:
    policy = tmp_path / name
    policy.write_bytes(ABSURD[name])
    proc = subprocess.run(
        [sys.executable, "-m", "enforcement", "replay", "--db", str(demo_db), "--policy",
         str(policy), "--start", "2026-03", "--end", "2026-03"],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("enforcement: error: ") and name in proc.stderr


def test_what_if_page_refuses_absurd_policies_without_a_traceback(
        demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROFIT_DB", str(demo_db))
    monkeypatch.delenv("PROFIT_POLICY", raising=False)
    at = AppTest.from_file(str(ROOT / "pages" / "what_if.py"), default_timeout=120)
    at.query_params.update({"from": "2026-03", "to": "2026-03"})
    at.run()
    assert not at.exception
    for name, body in ABSURD.items():
        at.file_uploader(key="wi_upload_file").clear().upload(
            name, body, "application/toml").run()
        assert not at.exception, name
        assert any(name in e.value for e in at.error), name
    # A share link (or a typed edit) with an absurd value is refused the same way.
    link = AppTest.from_file(str(ROOT / "pages" / "what_if.py"), default_timeout=120)
    link.query_params.update({"from": "2026-03", "to": "2026-03",
                              "p.thresholds.cutoff": "1e999999",
                              "p.tokens.free_monthly": "99999999999999999999"})
    link.run()
    assert not link.exception
    shown = " ".join(e.value for e in link.error) + " ".join(w.value for w in link.warning)
    assert "The policy loader refuses this edit" in shown
    assert "too large an amount: 1E+999999" in shown  # marked at thresholds.cutoff's field
    assert "must be at most 1,000,000,000, got 99999999999999999999" in shown


@pytest.mark.parametrize("page", ["daily", "weekly", "monthly", "users", "what_if"])
def test_an_absurd_current_policy_is_an_error_on_the_page_not_a_traceback(
        page: str, demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    current = tmp_path / "current.toml"
    current.write_bytes(ABSURD["huge-money.toml"])
    monkeypatch.setenv("PROFIT_DB", str(demo_db))
    monkeypatch.setenv("PROFIT_POLICY", str(current))
    at = AppTest.from_file(str(ROOT / "pages" / f"{page}.py"), default_timeout=120)
    at.query_params.update({"day": "2026-03-02", "week": "2026-W10", "month": "2026-03",
                            "from": "2026-03", "to": "2026-03"})
    if page == "what_if":
        at.session_state["wi_start"] = "current"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("thresholds.cutoff: too large an amount" in e.value for e in at.error)


def test_the_data_page_shows_hostile_refusals_without_a_traceback(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    f = tmp_path / "c.csv"
    f.write_bytes(HEADER.encode() + GOOD.format(id="ok").encode()
                  + b"n,+1555\x001230001,2026-03-01,meal_plan,0.08\n"
                  + b"b,+1555\xff\xfe1230001,2026-03-01,meal_plan,0.08\n"
                  + b"x,+15551230001,2026-03-01,meal_plan," + b"9" * 200_000 + b"\n"
                  + "u,+15551230001,\u202e2026-03-01,meal_plan,0.08\n".encode())
    j = tmp_path / "c.jsonl"
    j.write_text('{"event_id": "s", "user_id": "\\ud800", "ts": "2026", "cost_usd": 1}\n'
                 + "[" * 3000 + "]" * 3000 + "\n")
    db = tmp_path / "p.duckdb"
    result = load_files(db, {"cost_events": [str(f), str(j)]})
    assert (result.rows_written, result.rows_rejected) == (1, 6)
    monkeypatch.setenv("PROFIT_DB", str(db))
    at = AppTest.from_file(str(ROOT / "pages" / "data.py"), default_timeout=60).run()
    assert not at.exception, [e.value for e in at.exception]
    shown = at.dataframe[1].value  # the refused rows
    assert len(shown) == 6 and shown["reason"].str.len().min() > 0
