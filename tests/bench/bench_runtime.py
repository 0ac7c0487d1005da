"""Benchmark: the runtime. Decisions/s through `simulate` on moto, DynamoDB calls per
request, and `decide` alone.

- simulate: REQUESTS requests over USERS users (plus a payment each) fed through the
  code the Lambda runs, against moto's app served one request at a time, the setup the
  tests use. Baseline: one bare GetItem round trip on the same server, so the ratio says
  how many plain calls' time a decision costs (goal: about 2, one read and one write).
- calls per request: counted on the client (goal <= 2: BatchGetItem + TransactWriteItems).
- decide: best of 5 timings of DECIDE_CALLS calls on a mid-month state; goal < 20 us.
The workload is fixed and small (moto is slow): the figures do not depend on the bench
size, so they are measured once per run. `python -m tests.bench.bench_runtime` runs it alone.
"""

from __future__ import annotations

import io
import json
import os
import pathlib
import sys
import tempfile
import time
import timeit
from datetime import UTC, datetime, timedelta
from typing import Any

from enforcement.decide import State, decide
from enforcement.policy import load_policy
from runtime import policy_source, store
from runtime.service import ProfitRuntime
from runtime.simulate import Simulation
from tests.runtime_fixtures import SEED_POLICY, serial_moto_server, settings_for
from tests.sources_fixtures import AWS_ENV

REQUESTS, USERS, DECIDE_CALLS = 40, 5, 20_000
CALLS_GOAL, DECIDE_GOAL_US = 2, 20.0
_cached: list[dict[str, Any]] | None = None


def _events(path: pathlib.Path) -> None:
    start = datetime(2026, 3, 1, 9, tzinfo=UTC)
    lines = []
    for u in range(USERS):
        lines.append({"type": "payment", "payment_id": f"p{u}", "user": f"+1555000{u:04d}",
                      "ts": start.isoformat(), "stream": "tokens", "amount": "5.00"})
    for i in range(REQUESTS):
        lines.append({"type": "request", "request_id": f"r{i}",
                      "user": f"+1555000{i % USERS:04d}", "action": "meal_plan",
                      "ts": (start + timedelta(minutes=i)).isoformat(), "est_cost": "0.03"})
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))


def measure() -> list[dict[str, Any]]:
    os.environ.update(AWS_ENV)
    policy = load_policy(SEED_POLICY)
    state = State(cost=630_000, revenue=5_000_000, free_tokens=90, paid_tokens=120)
    now = datetime(2026, 3, 2, 9, tzinfo=UTC)
    decide(state, "meal_plan", 300_000, policy, now)
    per_call = min(timeit.repeat(lambda: decide(state, "meal_plan", 300_000, policy, now),
                                 number=DECIDE_CALLS, repeat=5)) / DECIDE_CALLS * 1e6

    with serial_moto_server() as url, tempfile.TemporaryDirectory() as tmp:
        rt = ProfitRuntime(settings_for(url), policy=policy_source.load(str(SEED_POLICY)))
        store.create_tables(rt.client, rt.tables)
        calls = {"n": 0}
        rt.client.meta.events.register("before-call.dynamodb",
                                       lambda **_: calls.__setitem__("n", calls["n"] + 1))
        events = pathlib.Path(tmp) / "events.jsonl"
        _events(events)
        out, err = io.StringIO(), io.StringIO()
        t0 = time.perf_counter()
        with events.open() as fh:
            bad = Simulation(rt).run(fh, out, err)
        elapsed = time.perf_counter() - t0
        if bad or len(out.getvalue().splitlines()) != REQUESTS:
            raise AssertionError(f"simulate refused lines: {err.getvalue()[:200]}")
        per_event = calls["n"] / (REQUESTS + USERS)
        key = {"TableName": rt.tables["tokens"], "Key": store.key("+15550000000")}
        rt.client.get_item(**key)
        t0 = time.perf_counter()
        for _ in range(50):
            rt.client.get_item(**key)
        round_trip = (time.perf_counter() - t0) / 50

    per_decision = elapsed / (REQUESTS + USERS)
    calls_ok = "ok" if per_event <= CALLS_GOAL else f"OVER GOAL {CALLS_GOAL}"
    decide_ok = "ok" if per_call < DECIDE_GOAL_US else f"OVER {DECIDE_GOAL_US:.0f} us GOAL"
    return [
        {"benchmark": f"runtime simulate on serial moto ({REQUESTS} requests, {USERS} payments)",
         "figure": f"{(REQUESTS + USERS) / elapsed:,.0f} events/s ({per_decision * 1e3:.1f} ms)",
         "baseline": f"{round_trip * 1e3:.1f} ms (one GetItem)",
         "ratio": f"{per_decision / round_trip:.1f}x a round trip"},
        {"benchmark": f"runtime DynamoDB calls per event [{calls_ok}]",
         "figure": f"{per_event:.2f}", "baseline": f"{CALLS_GOAL} (goal)",
         "ratio": f"{per_event / CALLS_GOAL:.2f}x goal"},
        {"benchmark": f"decide alone, per call [{decide_ok}]", "figure": f"{per_call:.1f} us",
         "baseline": f"{DECIDE_GOAL_US:.0f} us (goal)",
         "ratio": f"{DECIDE_GOAL_US / per_call:.1f}x under goal"},
    ]


def run(users: int, db: pathlib.Path) -> list[dict]:
    global _cached
    if _cached is None:
        _cached = measure()
    return [{**row, "users": users} for row in _cached]


def main() -> int:
    for row in measure():
        print(" | ".join(str(row[k]) for k in ("benchmark", "figure", "baseline", "ratio")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
