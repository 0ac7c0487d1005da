"""`python -m enforcement` end to end, on a tiny DuckDB file built here from loaders/schema.sql."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from enforcement.__main__ import main
from enforcement.replay import to_us
from queries.history import read_history
from tests.enforcement_fixtures import ROOT, SEED_POLICY, write_db

U1, U2 = "+15550000001", "+15550000002"


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "enforcement", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def _frames(rows: list[tuple], cols: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=cols)
    frame["ts_us"] = [to_us(t) for t in frame.pop("ts")]
    return frame


@pytest.fixture
def worked_db(tmp_path: Path) -> Path:
    """The spec's worked example for U1, plus noise the reader must leave out."""
    requests = _frames([
        ("r1", U1, datetime(2026, 3, 1, 9), "meal_plan", 300_000),
        ("r2", U1, datetime(2026, 3, 1, 10), "meal_plan", 300_000),
        ("r3", U1, datetime(2026, 3, 2, 9), "meal_plan", 300_000),
        ("r4", U1, datetime(2026, 3, 3, 9), "simple_message", 1_400_000),
        ("r5", U1, datetime(2026, 3, 3, 10), "simple_message", 20_000),
        ("r6", U2, datetime(2026, 2, 28, 23, 30), "meal_plan", 123_457),  # March in Paris
    ], ["event_id", "user_id", "ts", "action", "cost_micro"])
    revenue = _frames([("v1", U1, datetime(2026, 3, 2, 8), "tokens", 5_000_000, 120)],
                      ["event_id", "user_id", "ts", "stream", "amount_micro", "tokens"])
    clicks = _frames([], ["event_id", "user_id", "ts"])
    path = write_db(tmp_path / "tiny.duckdb", requests, revenue, clicks)
    con = duckdb.connect(str(path))
    # An estimate replaced by its actual (not counted) and a shown affiliate offer: neither
    # is history the replay reads.
    con.execute("""INSERT INTO cost_events (event_id, user_id, ts, action, cost_usd, counted,
                   source) VALUES ('x1', $u, TIMESTAMP '2026-03-01 09:00:00', 'meal_plan', 9.99,
                   false, 'test')""", {"u": U1})
    con.execute("""INSERT INTO affiliate_events (event_id, user_id, ts, kind, source)
                   VALUES ('s1', $u, TIMESTAMP '2026-03-01 09:30:00', 'shown', 'test')""",
                {"u": U1})
    con.close()
    return path


def test_reader_takes_counted_costs_and_clicks_only_in_policy_months(worked_db: Path) -> None:
    h = read_history(worked_db, "2026-03", "2026-03", "UTC")
    assert list(h.users) == [U1]  # r6 is February in UTC; x1 is not counted
    assert list(h.req_action) == ["meal_plan"] * 3 + ["simple_message"] * 2
    assert list(h.req_cost) == [300_000, 300_000, 300_000, 1_400_000, 20_000]
    assert len(h.clk_ts) == 0 and list(h.rev_tokens) == [120]
    paris = read_history(worked_db, "2026-03", "2026-03", "Europe/Paris")
    assert U2 in list(paris.users)  # r6: 23:30 UTC on 02-28 is 00:30 in Paris
    assert 123_457 in list(paris.req_cost)


@pytest.mark.parametrize("engine", ["fast", "plain"])
def test_replay_command_prints_the_worked_example_summary(worked_db: Path, tmp_path: Path,
                                                           engine: str) -> None:
    out = tmp_path / "users.csv"
    done = cli("replay", "--db", str(worked_db), "--policy", str(SEED_POLICY),
               "--start", "2026-03", "--end", "2026-03", "--format", "json",
               "--per-user", str(out), "--engine", engine)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["policy"] == "seed-default" and list(result["months"]) == ["2026-03"]
    total = result["total"]
    assert total == result["months"]["2026-03"]
    assert total == {
        "users": 1, "users_at_target": 1, "users_at_target_pct": 100.0,
        "users_by_level": {"normal": 1, "reduced_quality": 0, "basic_only": 0,
                           "affiliate_gated": 0, "payment_required": 0},
        "requests": 5, "served": 3,
        "not_served": {"payment_required": 1, "affiliate_required": 1, "insufficient_tokens": 0},
        "tokens_spent": 11, "cost_usd": "0.65", "revenue_usd": "5.00", "profit_usd": "4.35"}
    rows = list(csv.DictReader(out.open()))
    assert rows == [{"user_id": U1, "month": "2026-03", "requests": "5", "served": "3",
                     "not_served_payment_required": "1", "not_served_affiliate_required": "1",
                     "not_served_insufficient_tokens": "0", "tokens_spent": "11",
                     "cost": "0.65", "revenue": "5.00", "profit": "4.35", "level": "normal"}]


def test_replay_keeps_micro_dollars_in_money_strings(worked_db: Path, tmp_path: Path) -> None:
    paris = tmp_path / "paris.toml"
    paris.write_text(SEED_POLICY.read_text().replace('timezone = "UTC"',
                                                     'timezone = "Europe/Paris"'))
    done = cli("replay", "--db", str(worked_db), "--policy", str(paris), "--start", "2026-03",
               "--end", "2026-03")
    assert done.returncode == 0, done.stderr
    total = json.loads(done.stdout)["total"]
    # U2's 0.123457 request is served in full (within the free tier): 0.65 + 0.123457
    assert (total["users"], total["cost_usd"], total["users_at_target_pct"]) == (
        2, "0.773457", 50.0)


def test_decide_command_matches_worked_example_row_5() -> None:
    done = cli("decide", "--policy", str(SEED_POLICY), "--action", "simple_message",
               "--est-cost", "1.40", "--cost", "0.63", "--revenue", "5.00",
               "--free-tokens", "90", "--paid-tokens", "120", "--now", "2026-03-03T09:00:00")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "served": False, "level": "payment_required", "reason": "payment_required",
        "tokens_spent": 0, "cost": "0.00", "prompts": [], "payment_due": "5.00"}


def test_decide_command_unlocks_with_a_click_exactly_24_hours_old() -> None:
    done = cli("decide", "--policy", str(SEED_POLICY), "--action", "meal_plan",
               "--est-cost", "0.30", "--cost", "0.30", "--last-click", "2026-03-01T10:00:00Z",
               "--now", "2026-03-02T10:00:00+00:00")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "served": True, "level": "basic_only", "reason": "ok", "tokens_spent": 5,
        "cost": "0.03", "prompts": ["premium_promotion"], "payment_due": None}


def test_diff_command_lists_changed_keys(tmp_path: Path) -> None:
    other = tmp_path / "b.toml"
    other.write_text(SEED_POLICY.read_text().replace('cutoff = "2.00"', 'cutoff = "2.50"'))
    done = cli("diff", str(SEED_POLICY), str(other))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == 'thresholds.cutoff: "2.00" -> "2.50"'
    as_json = json.loads(cli("diff", str(SEED_POLICY), str(other), "--format", "json").stdout)
    assert as_json == [{"key": "thresholds.cutoff", "old": "2.00", "new": "2.50"}]
    assert cli("diff", str(SEED_POLICY), str(SEED_POLICY)).stdout.strip() == "no differences"


@pytest.mark.parametrize(("args", "fragment"), [
    (["replay", "--db", "{db}", "--policy", "{policy}", "--start", "2026-13", "--end",
      "2026-03"], "not a month"),
    (["replay", "--db", "{db}", "--policy", "{policy}", "--start", "2026-04", "--end",
      "2026-03"], "before start month"),
    (["replay", "--db", "{missing}", "--policy", "{policy}", "--start", "2026-03", "--end",
      "2026-03"], "no such database"),
    (["replay", "--db", "{db}", "--policy", "{policy}", "--start", "2026-03", "--end",
      "2026-03", "--engine", "turbo"], "invalid choice"),
    (["decide", "--policy", "{policy}", "--action", "x", "--est-cost", "1.4x"], "--est-cost"),
    (["decide", "--policy", "{policy}", "--action", "x", "--est-cost", "-1"], "negative"),
    (["decide", "--policy", "{policy}", "--action", "x", "--est-cost", "1",
      "--now", "yesterday"], "--now"),
    (["decide", "--policy", "{bad_policy}", "--action", "x", "--est-cost", "1"],
     "thresholds.cutoff"),
    (["diff", "{policy}"], "required"),
    (["frobnicate"], "invalid choice"),
])
def test_bad_arguments_exit_2_with_one_line(args, fragment, worked_db: Path, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    # In-process (the same `main` the module runs); the two tests below use a subprocess.
    bad = tmp_path / "bad.toml"
    bad.write_text(SEED_POLICY.read_text().replace('cutoff = "2.00"', 'cutoff = "1.00"'))
    values = {"db": str(worked_db), "policy": str(SEED_POLICY), "missing": str(tmp_path / "no"),
              "bad_policy": str(bad)}
    assert main([a.format(**values) for a in args]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0], err


@pytest.mark.parametrize(("args", "fragment"), [
    (["replay", "--db", "nowhere.duckdb", "--policy", str(SEED_POLICY), "--start", "2026-03",
      "--end", "2026-03"], "no such database"),
    (["decide", "--policy", str(SEED_POLICY), "--action", "x"], "--est-cost"),
])
def test_bad_arguments_exit_2_from_the_command_line(args, fragment) -> None:
    done = cli(*args)
    assert (done.returncode, done.stdout) == (2, "")
    assert len(done.stderr.strip().splitlines()) == 1 and fragment in done.stderr


def test_replay_engines_agree_on_the_demo_database(demo_db: Path, tmp_path: Path) -> None:
    # The demo business (tests/conftest.py): 400 users, three months to 2026-03.
    outputs = {}
    for engine in ("fast", "plain"):
        done = cli("replay", "--db", str(demo_db), "--policy", str(SEED_POLICY), "--start",
                   "2026-01", "--end", "2026-03", "--engine", engine,
                   "--per-user", str(tmp_path / f"{engine}.csv"))
        assert done.returncode == 0, done.stderr
        outputs[engine] = json.loads(done.stdout)
    assert outputs["fast"] == outputs["plain"]
    assert (tmp_path / "fast.csv").read_text() == (tmp_path / "plain.csv").read_text()
    total = outputs["fast"]["total"]
    assert list(outputs["fast"]["months"]) == ["2026-01", "2026-02", "2026-03"]
    assert total["requests"] > 0 and total["users"] > 0
    assert total["users"] == sum(m["users"] for m in outputs["fast"]["months"].values())
    assert sum(total["users_by_level"].values()) == total["users"]
    assert total["served"] + sum(total["not_served"].values()) == total["requests"]
