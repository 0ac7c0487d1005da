"""Concurrency: 4 processes x 8 threads deciding for one user at once, on moto served one
request at a time (what DynamoDB does on one item). Near the cutoff and near an empty
balance, nothing is served twice or past the limit, and no write is lost."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

from enforcement.policy import load_policy, save_policy
from tests import runtime_fixtures as rf
from tests.runtime_fixtures import ROOT, SEED_POLICY, events, make_runtime, scan

serial_moto_url, serial_moto = rf.serial_moto_url, rf.serial_moto
PROCESSES, THREADS = 4, 8
A, B, C = "+15550001", "+15550002", "+15550003"


def test_concurrent_deciders_never_pass_the_cutoff_overspend_or_lose_a_cost(serial_moto: str,
                                                                          tmp_path: Path):
    # Cutoff 1.00 with every threshold there: full service up to cost 1.00, then payment.
    policy = load_policy(SEED_POLICY).with_changes({
        "name": "concurrency", "thresholds.free_tier": "1.00", "thresholds.warning": "1.00",
        "thresholds.restriction": "1.00", "thresholds.cutoff": "1.00"})
    policy_path = tmp_path / "concurrency.toml"
    save_policy(policy, policy_path)
    rt = make_runtime(serial_moto, policy_path)
    # Near the limits: A at 0.80 of 1.00 (8 x 0.10), B at 20 of 100 free tokens left.
    for i in range(8):
        rt.decide_request(A, f"a-pre{i}", "simple_message", "0.10", "2026-03-10T11:00:00Z")
    for i in range(16):
        rt.decide_request(B, f"b-pre{i}", "meal_plan", "0.001", "2026-03-10T11:00:00Z")

    plan = [(A, "a-{w}-{t}", "simple_message", "0.10"),
            (B, "b-{w}-{t}", "meal_plan", "0.001"),
            (A, "same-request", "simple_message", "0.10"),  # one id sent by all 32 threads
            (C, "same-payment", "pay", "5.00")]
    workers = [subprocess.Popen(
        [sys.executable, "-c",
         "import json, sys; from tests.runtime_fixtures import concurrency_worker as w; "
         "w(*sys.argv[1:4], int(sys.argv[4]), int(sys.argv[5]), json.loads(sys.argv[6]))",
         serial_moto, rt.settings.prefix, str(policy_path), str(n), str(THREADS),
         json.dumps(plan)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for n in range(PROCESSES)]
    answers = []
    for proc in workers:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-2000:]
        answers += [json.loads(line) for line in out.splitlines()]
    assert len(answers) == PROCESSES * THREADS * len(plan)

    served = {u: sum(1 for a in answers if a["user"] == u and a.get("served")
                     and not a["duplicate"] and a["id"] != "same-request") for u in (A, B)}
    # A: 0.80 + 2 x 0.10 = 1.00 is not over the cutoff; a third would be.
    same = [a for a in answers if a["id"] == "same-request"]
    assert served[A] + (1 if same[0]["served"] else 0) == 2
    # B: 20 tokens left, 5 a meal plan: exactly 4 more served.
    assert served[B] == 4
    assert sum(1 for a in same if not a["duplicate"]) == 1  # decided once, 31 retries see it
    assert len({json.dumps({k: a[k] for k in ("served", "cost", "reason")}) for a in same}) == 1
    payments = [a for a in answers if a["id"] == "same-payment"]
    assert sum(1 for a in payments if not a["duplicate"]) == 1

    states = {s["user_phone"]: s for s in scan(rt, "tokens")}
    for user in (A, B):
        items = [i for i in events(rt, "costs") if i["user_phone"] == user]
        # the state item equals the sum of the cost items, and every event is counted once
        assert states[user]["month_cost"] == sum(i["actual_cost"] for i in items)
        assert states[user]["version"] == len(items)
        assert len({i["request_id"] for i in items}) == len(items)
        spent = sum(int(i["tokens_spent"]) for i in items)
        assert states[user]["token_balance"] == 100 - spent >= 0
        # in decision order, nothing is served once the month-to-date cost passes 1.00
        running = Decimal(0)
        for item in items:
            running += item["actual_cost"]
            assert running <= Decimal("1.00")
    assert states[A]["month_cost"] == Decimal("1.00")
    assert (states[B]["token_balance"], states[B]["month_cost"]) == (0, Decimal("0.02"))
    assert states[C]["paid_tokens"] == 120  # credited once: 100 + 20% bonus
    assert len(events(rt, "revenue")) == 1
