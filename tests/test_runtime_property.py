"""The spec's promise: the live and the replayed paths agree to the micro-dollar.

Random live sequences (requests at threshold-hitting costs, completions with equal
costs, payments of every stream, clicks, month starts in the policy timezone, ties in
one microsecond) go through the runtime on moto. Then:
1. the runtime's decisions, summed per user-month, equal `replay_plain` over the same
   events;
2. after `loaders dynamodb` and the replay on the loaded database, the figures are the
   same again;
3. the What-if baseline "history as recorded" of the loaded database shows those same
   decisions, as they were made.
"""

from __future__ import annotations

import tempfile
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
from hypothesis import HealthCheck, Phase, event, example, given, settings
from hypothesis import strategies as st

from enforcement import whatif
from enforcement.decide import level_of
from enforcement.levels import NOT_SERVED_REASONS, REASON_OK, REASON_SYSTEM
from enforcement.money import to_micro
from enforcement.policy import load_policy, save_policy
from enforcement.replay import TABLE_COLUMNS, History, month_label, month_of, replay_plain, to_us
from loaders.dynamodb import load_dynamodb
from queries.history import read_history
from runtime import policy_source, store
from runtime.service import ProfitRuntime
from tests import runtime_fixtures as rf
from tests.runtime_fixtures import SEED_POLICY
from tests.sources_fixtures import reset_moto

serial_moto_url = rf.serial_moto_url

USERS = ["+15550001", "+15550002"]
ACTIONS = ["simple_message", "meal_plan", "grocery_list", "error_handling", "other_action"]
COSTS = ["0", "0.01", "0.01", "0.05", "0.20", "0.30", "0.50", "1.40", "2.00"]
AMOUNTS = ["0.05", "1.00", "4.95", "5.00", "9.99", "-5.00"]
STREAMS = ["tokens", "premium", "affiliate", "data", "other"]
GAPS = [timedelta(0), timedelta(microseconds=1), timedelta(seconds=1), timedelta(minutes=30),
        timedelta(hours=3)]
START = datetime(2026, 3, 31, 20, 0, tzinfo=UTC)  # UTC and Los Angeles months both turn soon
ZERO, SEC, HOURS = GAPS[0], GAPS[2], GAPS[4]


def req(action: str, cost: str) -> tuple[str, str, str, str]:
    return ("request", USERS[0], action, cost)


an_event = st.one_of(
    st.tuples(st.just("request"), st.sampled_from(USERS), st.sampled_from(ACTIONS),
              st.sampled_from(COSTS)),
    st.tuples(st.just("complete"), st.integers(0, 30)),
    st.tuples(st.just("payment"), st.sampled_from(USERS), st.sampled_from(STREAMS),
              st.sampled_from(AMOUNTS), st.one_of(st.none(), st.integers(0, 120))),
    st.tuples(st.just("click"), st.sampled_from(USERS)),
)
timeline = st.lists(st.tuples(st.sampled_from(GAPS), an_event), min_size=6, max_size=30)


def policy_file(tz: str, folder: Path) -> Path:
    """The seed's policy, made tight enough that every reason turns up in a short history."""
    policy = load_policy(SEED_POLICY).with_changes({
        "name": f"property-{tz.replace('/', '-')}", "timezone": tz, "tokens.free_monthly": 3,
        "affiliate.unlock_hours": 1})
    path = folder / f"{policy.name}.toml"
    save_policy(policy, path)
    return path


def in_replay_order(steps: list) -> list[tuple[datetime, int, Any]]:
    """(ts, position, event): payments and clicks before requests at one instant, the
    replay's order, which is the order a live system meets them in."""
    ts, out = START, []
    for i, (gap, ev) in enumerate(steps):
        ts += gap
        out.append((ts, 0 if ev[0] in ("payment", "click") else 1, i, ev))
    out.sort(key=lambda x: (x[0], x[1], x[2]))
    return [(t, i, ev) for t, _, i, ev in out]


def run_live(rt: ProfitRuntime, steps: list) -> tuple[list, list, list, list]:
    """Feed the events through the runtime; returns what the replay needs, and decisions."""
    requests, revenue, clicks, decided = [], [], [], []
    served: list[tuple[str, str, int]] = []  # (user, request id, cost) of served requests
    completed: set[str] = set()
    for ts, i, ev in in_replay_order(steps):
        kind = ev[0]
        if kind == "request":
            _, user, action, cost = ev
            rid = f"q{i:05d}"
            out = rt.decide_request(user, rid, action, cost, ts)
            requests.append((rid, user, ts, action, Decimal(cost)))
            decided.append((user, ts, out.decision))
            if out.decision.served:
                served.append((user, rid, out.decision.cost))
        elif kind == "complete":
            open_ = [s for s in served if s[1] not in completed]
            if open_:
                user, rid, cost = open_[ev[1] % len(open_)]
                completed.add(rid)
                rt.complete_request(user, rid, Decimal(cost) / 1_000_000, ts)
        elif kind == "payment":
            _, user, stream, amount, tokens = ev
            pid = f"p{i:05d}"
            out = rt.record_payment(user, pid, amount, stream, tokens, ts)
            revenue.append((pid, user, ts, stream, Decimal(amount),
                            tokens if stream == "tokens" else None))
        else:
            rt.record_affiliate_click(ev[1], "HelloFresh", f"c{i:05d}", now=ts)
            clicks.append((f"c{i:05d}", ev[1], ts))
    return requests, revenue, clicks, decided


def live_table(decided: list, revenue: list, policy: Any) -> pd.DataFrame:
    """The runtime's decisions summed per user-month, in the replay table's columns."""
    rows: dict[tuple[str, str], dict[str, Any]] = defaultdict(lambda: {
        "requests": 0, "served": 0, "tokens_spent": 0, "cost": 0, "revenue": 0,
        **{f"not_served_{r}": 0 for r in NOT_SERVED_REASONS}})
    tz = policy.timezone
    for user, ts, d in decided:
        row = rows[(user, month_label(month_of(to_us(ts), tz)))]
        row["requests"] += 1
        if d.reason in (REASON_OK, REASON_SYSTEM):
            row["served"] += 1
        else:
            row[f"not_served_{d.reason}"] += 1
        row["tokens_spent"] += d.tokens_spent
        row["cost"] += d.cost
    for _, user, ts, _, amount, _ in revenue:
        rows[(user, month_label(month_of(to_us(ts), tz)))]["revenue"] += to_micro(amount)
    out = []
    for (user, month), row in sorted(rows.items()):
        out.append({"user_id": user, "month": month, **row, "profit": row["revenue"] - row["cost"],
                    "level": level_of(row["cost"], row["revenue"], policy).value})
    return pd.DataFrame(out, columns=TABLE_COLUMNS)


def comparable(table: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: (int(v) if k not in ("user_id", "month", "level") else str(v))
             for k, v in r.items()} for r in table.to_dict("records")]


@settings(max_examples=10, deadline=None, phases=[Phase.explicit, Phase.generate, Phase.shrink],
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=timeline, tz=st.sampled_from(["UTC", "America/Los_Angeles"]))
# Every path once, by hand: free tokens run out (3 free, the 4th message is refused), a
# tie in one microsecond, a completion, a click unlocking gated service, a purchase
# lifting a cutoff, and the month turning at 17:00 Los Angeles time.
@example(steps=[(ZERO, req("simple_message", "0.01")), (ZERO, req("simple_message", "0.01")),
                (SEC, ("complete", 0)), (SEC, req("simple_message", "0.01")),
                (SEC, req("simple_message", "0.01")), (SEC, req("meal_plan", "0.50")),
                (SEC, ("click", USERS[0])), (SEC, req("simple_message", "0.01")),
                (SEC, req("meal_plan", "2.00")),
                (SEC, ("payment", USERS[0], "tokens", "5.00", None)),
                (SEC, req("meal_plan", "0.30")), (HOURS, req("meal_plan", "0.30")),
                (HOURS, req("meal_plan", "0.30")), (HOURS, req("simple_message", "0.01"))],
         tz="America/Los_Angeles")
def test_live_decisions_equal_the_replay_before_and_after_loading(serial_moto_url: str, steps,
                                                                  tz):
    reset_moto(serial_moto_url)  # moto copies every table per transaction: keep it small
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = policy_file(tz, folder)
        loaded = policy_source.load(str(path))
        policy = loaded.policy
        rt = ProfitRuntime(rf.settings_for(serial_moto_url), policy=loaded)
        store.create_tables(rt.client, rt.tables)
        requests, revenue, clicks, decided = run_live(rt, steps)
        for reason in sorted({d.reason for _, _, d in decided}):
            event(f"reason {reason}")

        history = History.from_rows(requests, revenue, clicks)
        span = (month_label(month_of(to_us(START), tz)),
                month_label(month_of(to_us(START + timedelta(hours=80)), tz)))
        replayed = replay_plain(history, policy, *span)
        # 1. live == replay over the same events
        assert comparable(replayed.table) == comparable(live_table(decided, revenue, policy))

        # 2. loaded, then replayed: the same figures again
        db = folder / "loaded.duckdb"
        result, _ = load_dynamodb(db, env="dev", endpoint_url=serial_moto_url,
                                  prefix=rt.settings.prefix, segments=1)
        assert result.rows_rejected == 0
        loaded_history = read_history(db, *span, tz)
        again = replay_plain(loaded_history, policy, *span)
        assert comparable(again.table) == comparable(replayed.table)
        assert (again.months, again.total) == (replayed.months, replayed.total)

        # 3. "history as recorded" of the loaded database is the decisions as made live
        as_recorded = whatif.recorded(loaded_history, policy, *span)
        assert comparable(as_recorded.table) == comparable(replayed.table)
        assert whatif.decisions_recorded(loaded_history, policy, *span) == bool(decided)
