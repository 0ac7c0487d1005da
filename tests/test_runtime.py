"""The runtime against moto (one request at a time): the rules' worked example, storage,
idempotency, bad input and failures, as ../shared/spec/runtime.md states them."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import boto3
import duckdb
import pytest

from enforcement import whatif
from enforcement.policy import load_policy, policy_id, save_policy
from loaders.dynamodb import load_dynamodb
from queries.history import read_history
from runtime import policy_source, store
from runtime.inputs import InputError
from runtime.state import sort_key
from tests import runtime_fixtures as rf
from tests.runtime_fixtures import SEED_POLICY, events, make_runtime, scan
from tests.sources_fixtures import AWS_ENV, REGION, inject_throttling

serial_moto_url, serial_moto = rf.serial_moto_url, rf.serial_moto
ROOT = Path(__file__).resolve().parent.parent
U = "+15550001"

WORKED_EXAMPLE = [
    {"type": "request", "request_id": "r1", "user": U, "ts": "2026-03-01T09:00:00Z",
     "action": "meal_plan", "est_cost": "0.30"},
    {"type": "request", "request_id": "r2", "user": U, "ts": "2026-03-01T10:00:00Z",
     "action": "meal_plan", "est_cost": "0.30"},
    {"type": "payment", "payment_id": "p1", "user": U, "ts": "2026-03-02T08:00:00Z",
     "stream": "tokens", "amount": "5.00", "tokens": 120},
    {"type": "request", "request_id": "r3", "user": U, "ts": "2026-03-02T09:00:00Z",
     "action": "meal_plan", "est_cost": "0.30"},
    {"type": "request", "request_id": "r4", "user": U, "ts": "2026-03-03T09:00:00Z",
     "action": "simple_message", "est_cost": "1.40"},
    {"type": "request", "request_id": "r5", "user": U, "ts": "2026-03-03T10:00:00Z",
     "action": "simple_message", "est_cost": "0.02"},
]


def row(rid, served, level, reason, tokens, cost, prompts=(), due=None):
    return {"request_id": rid, "served": served, "level": level, "reason": reason,
            "tokens_spent": tokens, "cost": cost, "prompts": list(prompts), "payment_due": due}


def simulate(url: str, prefix: str, lines: list, tmp_path: Path, *extra: str,
             policy: Path = SEED_POLICY) -> subprocess.CompletedProcess:
    events_file = tmp_path / f"{prefix}.jsonl"
    events_file.write_text("".join((x if isinstance(x, str) else json.dumps(x)) + "\n"
                                   for x in lines))
    return subprocess.run(
        [sys.executable, "-m", "runtime", "simulate", "--policy", str(policy),
         "--events", str(events_file), "--endpoint-url", url, "--region", REGION,
         "--env", "dev", "--table-prefix", prefix, *extra],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**AWS_ENV, "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)})


def test_worked_example_through_simulate_gives_the_rules_table_row_by_row(
        serial_moto: str, tmp_path: Path):
    prefix = rf.unique_prefix()
    done = simulate(serial_moto, prefix, WORKED_EXAMPLE, tmp_path, "--create-tables")
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert rows == [
        row("r1", True, "normal", "ok", 5, "0.30"),
        # projected 0.60 > 0.50, profit -0.60 -> affiliate_gated; no click: cost 0.03
        row("r2", False, "affiliate_gated", "affiliate_required", 0, "0.03",
            ["premium_promotion"]),
        row("r3", True, "normal", "ok", 5, "0.30"),  # projected 0.63, profit 4.37
        # projected 2.03 > 2.00 and profit 2.97 < 3: max(5.00, 3 - 4.37) = 5.00
        row("r4", False, "payment_required", "payment_required", 0, "0.00", due="5.00"),
        row("r5", True, "normal", "ok", 1, "0.02"),
    ]
    rt = make_runtime(serial_moto, prefix=prefix, create=False)
    status = rt.get_user_profitability_status(U, now="2026-03-31T12:00:00Z")
    # Month end: cost 0.30 + 0.03 + 0.30 + 0.02 = 0.65, revenue 5.00, profit 4.35.
    assert status["monthly_cost"] == Decimal("0.65")
    assert status["monthly_profit"] == Decimal("4.35")
    assert status["is_profitable"] and status["level"] == "normal"
    # Tokens: 100 free - 5 - 5 - 1 = 89, paid 120 untouched (free tokens go first).
    assert (status["free_tokens"], status["paid_tokens"], status["token_balance"]) == (89, 120,
                                                                                      209)


def test_a_bad_line_is_reported_with_its_number_and_the_others_go_on(serial_moto: str,
                                                                    tmp_path: Path):
    lines = [WORKED_EXAMPLE[0],
             {**WORKED_EXAMPLE[1], "est_cost": 0.3},
             {"type": "teleport", "user": U},
             {"type": "request", "request_id": "r9", "user": U, "ts": "2026-03-01T11:00:00Z"},
             {**WORKED_EXAMPLE[1], "est_cost": "-0.30"},
             {**WORKED_EXAMPLE[2], "stream": "donation"},
             {**WORKED_EXAMPLE[1], "user": "not-a-phone"},
             "{not json",
             {**WORKED_EXAMPLE[4], "request_id": "r5"}]
    done = simulate(serial_moto, rf.unique_prefix(), lines, tmp_path, "--create-tables")
    assert done.returncode == 1
    assert [json.loads(x)["request_id"] for x in done.stdout.splitlines()] == ["r1", "r5"]
    errors = done.stderr.splitlines()
    assert errors[0].startswith("line 2: request: est_cost is a float (0.3)")
    assert errors[1].startswith("line 3: unknown type: 'teleport'")
    assert errors[2] == "line 4: request: missing action, est_cost"
    assert errors[3] == "line 5: negative est_cost: -0.30"
    assert errors[4].startswith("line 6: unknown stream: 'donation'")
    assert errors[5] == "line 7: user is not a phone number: 'not-a-phone'"
    assert errors[6].startswith("line 8: not JSON")
    assert len(errors) == 7


def test_each_request_is_one_cost_item_with_its_decision_and_policy(serial_moto: str):
    rt = make_runtime(serial_moto)
    rt.decide_request("whatsapp:+1 555-0001", "r1", "meal_plan", "0.30", "2026-03-01T09:00:00Z")
    rt.decide_request(U, "r2", "meal_plan", "0.30", "2026-03-01T10:00:00Z")
    items = events(rt, "costs")
    assert [i["timestamp"] for i in items] == ["2026-03-01T09:00:00#0000000001",
                                               "2026-03-01T10:00:00#0000000002"]
    first, second = items
    assert first["policy_id"] == policy_id(load_policy(SEED_POLICY))
    assert first["policy_id"].startswith("seed-default@") and len(first["policy_id"]) == 25
    assert (first["user_phone"], first["event_type"], first["month"]) == (U, "meal_plan",
                                                                          "2026-03")
    assert (first["actual_cost"], first["requested_cost"]) == (Decimal("0.3"), Decimal("0.3"))
    assert (first["decision_served"], first["decision_level"], first["decision_reason"],
            first["tokens_spent"]) == (True, "normal", "ok", 5)
    # the refusal: incurred 0.03 at the affiliate factor, requested 0.30
    assert (second["actual_cost"], second["requested_cost"], second["decision_reason"]) == (
        Decimal("0.03"), Decimal("0.3"), "affiliate_required")
    assert first["ttl"] == 1772355600 + 90 * 86400  # 2026-03-01T09:00Z + 90 days
    state = scan(rt, "tokens")
    assert len(state) == 1
    assert (state[0]["token_balance"], state[0]["month_cost"], state[0]["version"],
            state[0]["last_updated"], state[0]["month"]) == (95, Decimal("0.33"), 2,
                                                              "2026-03-01T10:00:00", "2026-03")


def test_two_requests_in_the_same_microsecond_are_both_kept_in_decision_order(
        serial_moto: str):
    rt = make_runtime(serial_moto)
    ts = "2026-03-01T09:00:00.123456Z"
    rt.decide_request(U, "b", "simple_message", "0.01", ts)
    rt.decide_request(U, "a", "simple_message", "0.01", ts)
    items = events(rt, "costs")
    assert [(i["timestamp"], i["request_id"]) for i in items] == [
        ("2026-03-01T09:00:00.123456#0000000001", "b"),
        ("2026-03-01T09:00:00.123456#0000000002", "a")]
    assert sort_key(0, 7) == "1970-01-01T00:00:00#0000000007"


def test_a_retried_request_returns_the_recorded_decision_and_writes_nothing(
        serial_moto: str):
    rt = make_runtime(serial_moto)
    first = rt.decide_request(U, "wamid.1", "meal_plan", "0.30", "2026-03-01T09:00:00Z")
    again = rt.decide_request(U, "wamid.1", "meal_plan", "0.99", "2026-03-01T09:05:00Z")
    assert (first.duplicate, again.duplicate) == (False, True)
    assert again.decision == first.decision and again.timestamp == first.timestamp
    assert len(events(rt, "costs")) == 1
    assert scan(rt, "tokens")[0]["version"] == 1


def test_a_payment_id_credits_once(serial_moto: str):
    rt = make_runtime(serial_moto)
    one = rt.process_token_purchase(U, "5.00", "pi_1", now="2026-03-02T08:00:00Z")
    two = rt.process_token_purchase(U, "5.00", "pi_1", now="2026-03-02T08:01:00Z")
    # $5.00 / $0.05 = 100 tokens, + 20% bonus at >= $5.00 = 120
    assert (one["tokens_added"], one["new_balance"], one["duplicate"]) == (120, 220, False)
    assert (two["tokens_added"], two["duplicate"]) == (120, True)
    revenue = events(rt, "revenue")
    assert len(revenue) == 1
    assert revenue[0]["revenue_type"] == "token_purchase"
    assert revenue[0]["details"]["tokens_purchased"] == 120
    assert scan(rt, "tokens")[0]["paid_tokens"] == 120


def test_a_click_is_recorded_once_and_unlocks_gated_service(serial_moto: str):
    rt = make_runtime(serial_moto)
    rt.decide_request(U, "r1", "meal_plan", "0.30", "2026-03-01T09:00:00Z")
    rt.record_affiliate_click(U, "HelloFresh", "c1", now="2026-03-01T09:30:00Z")
    rt.record_affiliate_click(U, "HelloFresh", "c1", now="2026-03-01T09:31:00Z")
    d = rt.decide_request(U, "r2", "meal_plan", "0.30", "2026-03-01T10:00:00Z").decision
    # affiliate_gated, but a click 30 min ago unlocks basic_only: 10% of 0.30 = 0.03
    assert (d.served, d.level.value, d.cost) == (True, "basic_only", 30_000)
    assert [(i["kind"], i["partner"]) for i in events(rt, "affiliate")] == [("click",
                                                                            "HelloFresh")]


def test_a_completion_counts_its_measured_cost_once(serial_moto: str):
    rt = make_runtime(serial_moto)
    rt.decide_request(U, "r1", "meal_plan", "0.30", "2026-03-01T09:00:00Z")
    rt.complete_request(U, "r1", "0.29", "2026-03-01T09:00:02Z")
    again = rt.complete_request(U, "r1", "0.29", "2026-03-01T09:00:03Z")
    assert again.duplicate
    items = events(rt, "costs")
    assert [i["event_type"] for i in items] == ["meal_plan", "meal_plan_completed"]
    assert scan(rt, "tokens")[0]["month_cost"] == Decimal("0.29")  # 0.30 replaced by 0.29
    refused = rt.decide_request(U, "r2", "simple_message", "5.00", "2026-03-01T10:00:00Z")
    assert not refused.decision.served
    with pytest.raises(InputError, match="was not served"):
        rt.complete_request(U, "r2", "0.01", "2026-03-01T10:00:01Z")
    with pytest.raises(InputError, match="unknown request_id"):
        rt.complete_request(U, "nope", "0.01", "2026-03-01T10:00:01Z")


def test_a_new_month_starts_from_its_free_tokens_and_keeps_paid_ones(serial_moto: str):
    rt = make_runtime(serial_moto)
    rt.record_payment(U, "p1", "5.00", "tokens", 120, "2026-03-31T23:00:00Z")
    rt.decide_request(U, "r1", "meal_plan", "0.30", "2026-03-31T23:30:00Z")
    status = rt.get_user_profitability_status(U, now="2026-04-01T00:00:00Z")
    assert (status["month"], status["monthly_cost"], status["monthly_revenue"]) == (
        "2026-04", Decimal("0.00"), Decimal("0.00"))
    assert (status["free_tokens"], status["paid_tokens"]) == (100, 120)


@pytest.mark.parametrize(("call", "reason"), [
    (lambda rt: rt.decide_request(U, "r", "meal_plan", 0.3), "est_cost is a float"),
    (lambda rt: rt.decide_request(U, "r", "meal_plan", "-0.01"), "negative est_cost"),
    (lambda rt: rt.decide_request("call me", "r", "meal_plan", "0.01"), "not a phone number"),
    (lambda rt: rt.record_payment(U, "p", "5.00", "donation"), "unknown stream"),
    (lambda rt: rt.process_token_purchase(U, 5.0, "p"), "payment_amount is a float"),
    (lambda rt: rt.track_cost_event(U, "meal_plan_generation", {"ai_tokens": 1500},
                                    actual_cost=0.08, request_id="r"), "is a float"),
])
def test_bad_input_is_refused_with_its_reason_and_nothing_is_written(serial_moto: str,
                                                                     call, reason):
    rt = make_runtime(serial_moto)
    with pytest.raises(InputError, match=reason):
        call(rt)
    assert scan(rt, "costs") == [] and scan(rt, "tokens") == []


def test_throttling_is_retried_and_the_decision_recorded_once(serial_moto: str):
    rt = make_runtime(serial_moto)
    reads = inject_throttling(rt.client, "BatchGetItem", 1)
    writes = inject_throttling(rt.client, "TransactWriteItems", 1)
    out = rt.decide_request(U, "r1", "meal_plan", "0.30", "2026-03-01T09:00:00Z")
    assert out.decision.served and not out.duplicate
    assert (reads["throttled"], writes["throttled"]) == (1, 1)
    assert (reads["calls"], writes["calls"]) == (2, 2)  # each call throttled once, then through
    assert len(events(rt, "costs")) == 1


@pytest.mark.parametrize("mode", ["open", "closed"])
def test_a_missing_table_fails_as_configured_with_one_clear_line(serial_moto: str, mode,
                                                                 caplog):
    rt = make_runtime(serial_moto, create=False, fail_mode=mode)
    with caplog.at_level(logging.ERROR, logger="runtime"):
        answer = rt.enforce_profit_requirements(U, "meal_plan", "0.30")
    assert answer["action_allowed"] is (mode == "open")
    assert answer["enforcement_type"] == f"fail_{mode}"
    assert len(caplog.records) == 1
    record = caplog.records[0]
    assert record.exc_info is None  # a line, not a traceback
    assert "not found" in record.getMessage() and rt.tables["tokens"] in record.getMessage()
    assert f"failing {mode}" in record.getMessage()


def test_refused_credentials_are_named_not_a_traceback(serial_moto: str, caplog):
    rt = make_runtime(serial_moto)
    body = json.dumps({"__type": "com.amazon.coral.service#UnrecognizedClientException",
                       "message": "The security token included in the request is invalid."})
    from botocore.awsrequest import AWSResponse

    from tests.sources_fixtures import _Raw

    def refuse(request, **_):
        return AWSResponse(request.url, 400, {"Content-Type": "application/x-amz-json-1.0"},
                           _Raw(body.encode()))

    rt.client.meta.events.register("before-send.dynamodb", refuse)
    with caplog.at_level(logging.ERROR, logger="runtime"):
        answer = rt.enforce_profit_requirements(U, "meal_plan", "0.30")
    assert answer["enforcement_type"] == "fail_closed" and not answer["action_allowed"]
    assert "refused the credentials" in answer["error"]
    assert "UnrecognizedClientException" in caplog.records[0].getMessage()


def test_the_guide_names_keep_their_return_keys(serial_moto: str):
    rt = make_runtime(serial_moto)
    answer = rt.enforce_profit_requirements(U, "meal_plan", "0.30", request_id="w1",
                                            now="2026-03-01T09:00:00Z")
    assert {"action_allowed", "enforcement_type", "message", "restriction_level",
            "payment_amount", "purchase_url", "tokens_remaining", "decision"} <= set(answer)
    assert (answer["action_allowed"], answer["tokens_remaining"]) == (True, 95)
    tracked = rt.track_cost_event(U, "meal_plan_completed", {"ai_tokens": 1500},
                                  actual_cost="0.08", request_id="w1",
                                  now="2026-03-01T09:00:05Z")
    assert tracked["actual_cost"] == Decimal("0.08")
    system = rt.track_cost_event(U, "error_handling", actual_cost="0.001",
                                 now="2026-03-01T09:01:00Z")
    assert system["actual_cost"] == Decimal("0.001")
    status = rt.get_user_profitability_status(U, now="2026-03-01T12:00:00Z")
    assert {"monthly_cost", "monthly_revenue", "monthly_profit", "is_profitable"} <= set(status)
    assert status["monthly_cost"] == Decimal("0.081")  # 0.08 measured + 0.001 system
    refused = rt.enforce_profit_requirements(U, "meal_plan", "0.60", request_id="w2",
                                             now="2026-03-01T13:00:00Z")
    assert (refused["action_allowed"], refused["enforcement_type"],
            refused["affiliate_required"]) == (False, "affiliate_required", True)


def test_the_policy_is_read_from_s3_with_its_id(serial_moto: str, tmp_path: Path):
    s3 = boto3.client("s3", endpoint_url=serial_moto, region_name=REGION)
    s3.create_bucket(Bucket="policies")
    policy = load_policy(SEED_POLICY).with_changes({"name": "tight", "thresholds.cutoff": "1.75"})
    save_policy(policy, tmp_path / "tight.toml")
    content = (tmp_path / "tight.toml").read_bytes()
    s3.put_object(Bucket="policies", Key="live/tight.toml", Body=content)
    loaded = policy_source.load("s3://policies/live/tight.toml", s3)
    assert loaded.policy == policy
    assert loaded.policy_id == policy_id(policy) != policy_id(load_policy(SEED_POLICY))
    assert loaded.policy_id.startswith("tight@")


def test_a_policy_id_names_the_rules_not_the_file_layout(tmp_path: Path):
    seed = load_policy(SEED_POLICY)
    commented = tmp_path / "commented.toml"
    commented.write_text("# the seed, reformatted\n" + SEED_POLICY.read_text()
                         .replace("# ", "#  "))
    assert policy_id(load_policy(commented)) == policy_id(seed)
    assert policy_id(seed.with_changes({"thresholds.cutoff": "2.01"})) != policy_id(seed)


def test_the_loader_reads_what_the_runtime_wrote_with_nothing_refused(serial_moto: str,
                                                                     tmp_path: Path):
    rt = make_runtime(serial_moto)
    for event in WORKED_EXAMPLE:
        if event["type"] == "payment":
            rt.record_payment(U, "p1", "5.00", "tokens", 120, event["ts"])
        else:
            rt.decide_request(U, event["request_id"], event["action"], event["est_cost"],
                              event["ts"])
    rt.complete_request(U, "r5", "0.02", "2026-03-03T10:00:02Z")
    rt.record_affiliate_click(U, "HelloFresh", "c1", now="2026-03-04T09:00:00Z")
    db = tmp_path / "runtime.duckdb"
    result, plans = load_dynamodb(db, env="dev", endpoint_url=serial_moto,
                                  prefix=rt.settings.prefix)
    assert result.rows_rejected == 0
    assert {p.logical for p in plans} == {"costs", "revenue", "tokens", "affiliate"}
    con = duckdb.connect(str(db), read_only=True)
    rows = con.execute(
        "SELECT request_id, event_type, cost_usd, counted, requested_cost_usd, decision_served,"
        " decision_level, decision_reason, policy_id IS NOT NULL FROM cost_events "
        "ORDER BY event_id").fetchall()
    clicks = con.execute("SELECT user_id, partner, kind FROM affiliate_events").fetchall()
    revenue = con.execute("SELECT stream, amount_usd, tokens FROM revenue_events").fetchall()
    con.close()
    d = Decimal
    assert rows == [
        ("r1", "meal_plan", d("0.3"), True, d("0.3"), True, "normal", "ok", True),
        ("r2", "meal_plan", d("0.03"), True, d("0.3"), False, "affiliate_gated",
         "affiliate_required", True),
        ("r3", "meal_plan", d("0.3"), True, d("0.3"), True, "normal", "ok", True),
        ("r4", "simple_message", d("0"), True, d("1.4"), False, "payment_required",
         "payment_required", True),
        ("r5", "simple_message", d("0.02"), False, d("0.02"), True, "normal", "ok", True),
        ("r5", "simple_message_completed", d("0.02"), True, None, None, None, None, True),
    ]
    assert clicks == [(U, "HelloFresh", "click")]
    assert revenue == [("tokens", d("5"), 120)]
    history = read_history(db, "2026-03", "2026-03", "UTC")
    # five requests at their requested cost; the completion is no request
    assert sorted(history.req_cost.tolist()) == [20_000, 300_000, 300_000, 300_000, 1_400_000]
    # "history as recorded": the decisions as made, the costs as incurred
    policy = load_policy(SEED_POLICY)
    total = whatif.recorded(history, policy, "2026-03", "2026-03").total
    assert (total["requests"], total["served"], total["tokens_spent"]) == (5, 3, 11)
    assert total["not_served"] == {"payment_required": 1, "affiliate_required": 1,
                                   "insufficient_tokens": 0}
    assert (total["cost_usd"], total["profit_usd"]) == (Decimal("0.65"), Decimal("4.35"))
    assert whatif.decisions_recorded(history, policy, "2026-03", "2026-03")


def test_a_database_loaded_before_the_runtime_columns_still_replays(tmp_path: Path):
    db = tmp_path / "old.duckdb"
    con = duckdb.connect(str(db))
    con.execute("""CREATE TABLE cost_events (event_id VARCHAR, user_id VARCHAR, ts TIMESTAMP,
        action VARCHAR, event_type VARCHAR, cost_usd DECIMAL(18,6), counted BOOLEAN,
        category VARCHAR, details JSON, source VARCHAR, load_id BIGINT, pairing BOOLEAN)""")
    con.execute("""CREATE TABLE revenue_events (event_id VARCHAR, user_id VARCHAR,
        ts TIMESTAMP, stream VARCHAR, amount_usd DECIMAL(18,6), tokens INTEGER,
        partner VARCHAR, details JSON, source VARCHAR, load_id BIGINT)""")
    con.execute("""CREATE TABLE affiliate_events (event_id VARCHAR, user_id VARCHAR,
        ts TIMESTAMP, partner VARCHAR, kind VARCHAR, source VARCHAR, load_id BIGINT)""")
    con.execute("INSERT INTO cost_events VALUES ('c1', '+1555', '2026-03-01 09:00', 'meal_plan',"
                " 'meal_plan', 0.30, true, 'ai', NULL, 'old', 1, false)")
    con.close()
    history = read_history(db, "2026-03", "2026-03", "UTC")
    assert history.req_cost.tolist() == [300_000]


def test_store_errors_are_one_line(serial_moto: str):
    rt = make_runtime(serial_moto, create=False)
    with pytest.raises(store.StoreUnavailable) as err:
        rt.decide_request(U, "r1", "meal_plan", "0.30")
    assert "\n" not in str(err.value) and "not found" in str(err.value)


def test_a_policy_that_stops_validating_leaves_the_one_in_force(tmp_path: Path, caplog):
    path = tmp_path / "live.toml"
    path.write_bytes(SEED_POLICY.read_bytes())
    source = policy_source.PolicySource(str(path), refresh_s=0)
    first = source.get()
    path.write_text('name = "broken"\n')
    with caplog.at_level(logging.ERROR, logger="runtime"):
        again = source.get()
    assert again == first
    assert "stays in force" in caplog.records[0].getMessage()
    save_policy(load_policy(SEED_POLICY).with_changes({"name": "next"}), path)
    assert source.get().policy.name == "next"


def test_simulate_on_a_missing_table_says_so_in_one_line(serial_moto: str, tmp_path: Path):
    done = simulate(serial_moto, rf.unique_prefix(), WORKED_EXAMPLE[:1], tmp_path)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.startswith("simulate: error: DynamoDB table ")
    assert "not found" in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_policies_in_force_say_which_policy_decided_when(serial_moto: str, tmp_path: Path):
    from datetime import datetime

    from queries import run

    seed_rt = make_runtime(serial_moto)
    tight = load_policy(SEED_POLICY).with_changes({"name": "tight"})
    save_policy(tight, tmp_path / "tight.toml")
    tight_rt = make_runtime(serial_moto, tmp_path / "tight.toml",
                            prefix=seed_rt.settings.prefix, create=False)
    seed_rt.decide_request(U, "r1", "simple_message", "0.01", "2026-03-01T09:00:00Z")
    seed_rt.decide_request(U, "r2", "simple_message", "0.01", "2026-03-02T09:00:00Z")
    tight_rt.decide_request(U, "r3", "simple_message", "0.01", "2026-03-05T09:00:00Z")
    db = tmp_path / "policies.duckdb"
    load_dynamodb(db, env="dev", endpoint_url=serial_moto, prefix=seed_rt.settings.prefix)
    con = duckdb.connect(str(db), read_only=True)
    rows = run(con, "policies_in_force", start=datetime(2026, 3, 1),
               end=datetime(2026, 4, 1)).to_dict("records")
    con.close()
    assert [(r["policy_id"], r["policy_name"], r["requests"], r["first_decision"])
            for r in rows] == [
        (policy_id(load_policy(SEED_POLICY)), "seed-default", 2, datetime(2026, 3, 1, 9)),
        (policy_id(tight), "tight", 1, datetime(2026, 3, 5, 9))]


def test_an_unreadable_policy_fails_as_configured(serial_moto: str, tmp_path: Path, caplog):
    from runtime.service import ProfitRuntime

    missing = tmp_path / "nowhere.toml"
    rt = ProfitRuntime(rf.settings_for(serial_moto, fail_mode="open"),
                       policy=policy_source.PolicySource(str(missing)))
    store.create_tables(rt.client, rt.tables)
    with caplog.at_level(logging.ERROR, logger="runtime"):
        answer = rt.enforce_profit_requirements(U, "meal_plan", "0.30")
    assert (answer["action_allowed"], answer["enforcement_type"]) == (True, "fail_open")
    assert "nowhere.toml unreadable (FileNotFoundError" in caplog.records[0].getMessage()
