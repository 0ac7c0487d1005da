"""The replay's sorted read (`replay_events.sql` into numpy) equals the three-frame read.

`queries.history.read_sorted` is DuckDB's fast path; `read_frames` is the path every
engine can take (Spark's), sorted in `History.from_frames`. Both must hand the fold the
same columns in the same order, ties included (one user, two requests in the same
micro-second, ordered by event_id), with and without what the runtime recorded, and on
a database written before the runtime's columns existed.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from enforcement.fast_replay import replay_fast
from enforcement.replay import History, replay_plain
from loaders.publish import connect_read_only
from queries.history import month_bounds, read_frames, read_sorted
from tests.enforcement_fixtures import seed_policy, synthetic_frames, write_db

COLUMNS = ("users", "req_user", "req_ts", "req_action", "req_cost", "rev_user", "rev_ts",
           "rev_stream", "rev_amount", "rev_tokens", "rev_has_tokens", "clk_user", "clk_ts",
           "req_recorded_cost", "req_recorded_reason", "req_recorded_tokens")


def _shuffled_ids(frame: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Event ids in an order unrelated to the rows', so a tie is ordered by its ids only."""
    out = frame.copy()
    out["event_id"] = np.random.default_rng(seed).permutation(out["event_id"].to_numpy())
    return out


def _runtime_rows(requests: pd.DataFrame) -> pd.DataFrame:
    """Decided requests as the runtime writes them: served (with a completion that replaces
    the decision's cost), refused (cost 0, a reason) and served without a completion."""
    rows = []
    for i, r in enumerate(requests.head(60).itertuples()):
        ts = pd.Timestamp(r.ts_us, unit="us") + pd.Timedelta(seconds=7)
        kind = i % 3
        rows.append({"event_id": f"rt{i:04d}", "user_id": r.user_id, "ts": ts,
                     "action": r.action, "event_type": r.action,
                     "cost_usd": 0 if kind == 1 else 0.01, "counted": kind != 0,
                     "requested_cost_usd": 0.02 + i / 1000, "request_id": f"q{i}",
                     "decision_reason": ["ok", "payment_required", "ok"][kind],
                     "details": f'{{"tokens_spent": {kind + 1}}}', "source": "runtime"})
        if kind == 0:
            rows.append({"event_id": f"rc{i:04d}", "user_id": r.user_id,
                         "ts": ts + pd.Timedelta(seconds=2), "action": r.action,
                         "event_type": f"{r.action}_completed", "cost_usd": 0.013,
                         "counted": True, "requested_cost_usd": None, "request_id": f"q{i}",
                         "decision_reason": None, "details": None, "source": "runtime"})
    return pd.DataFrame(rows)


def _db(tmp_path: Path, *, runtime: bool = False, old_schema: bool = False) -> Path:
    requests, revenue, clicks = synthetic_frames(300, per_user=30, seed=11)
    six_hours = 6 * 3_600_000_000  # coarse instants: one user's requests often tie
    requests["ts_us"] = requests["ts_us"] // six_hours * six_hours
    # A second line and click at the same instant as each first: ties of those kinds too.
    revenue = pd.concat([revenue, revenue.assign(event_id=revenue["event_id"] + "b",
                                                 amount_micro=revenue["amount_micro"] + 1)],
                        ignore_index=True)
    clicks = pd.concat([clicks, clicks.assign(event_id=clicks["event_id"] + "b")],
                       ignore_index=True)
    requests, revenue, clicks = (_shuffled_ids(f, s) for f, s in
                                 ((requests, 1), (revenue, 2), (clicks, 3)))
    extra = _runtime_rows(requests) if runtime else None
    path = write_db(tmp_path / "history.duckdb", requests, revenue, clicks, extra)
    if old_schema:
        with duckdb.connect(str(path)) as con:
            for column in ("requested_cost_usd", "request_id"):
                con.execute(f"ALTER TABLE cost_events DROP COLUMN {column}")
    return path


def _both(path: Path, tz: str = "UTC") -> tuple[History, History]:
    lo, hi = month_bounds("2026-03", "2026-03", tz)
    con = connect_read_only(path)
    try:
        return read_sorted(con, lo, hi), read_frames(con, lo, hi)
    finally:
        con.close()


# Revenue lines and clicks at one instant add up the same in any order: the sorted read
# promises (user, ts) order for them, requests also by event_id.
UNORDERED_TIES = {"rev": ("rev_user", "rev_ts", "rev_stream", "rev_amount", "rev_tokens",
                          "rev_has_tokens"), "clk": ("clk_user", "clk_ts")}


def _assert_same(fast: History, frames: History) -> None:
    for columns in UNORDERED_TIES.values():
        a, b = (list(zip(*(getattr(h, c) for c in columns), strict=True))
                for h in (fast, frames))
        assert sorted(a) == sorted(b) and [r[:2] for r in a] == [r[:2] for r in b]
    for name in (c for c in COLUMNS if c[:3] not in UNORDERED_TIES):
        a, b = getattr(fast, name), getattr(frames, name)
        if b is None:
            assert a is None, name
            continue
        assert len(a) == len(b) and list(a) == list(b), name


@pytest.mark.parametrize("case", ["plain", "runtime", "old_schema", "paris"])
def test_the_sorted_read_hands_the_fold_what_the_frames_do(tmp_path: Path, case: str) -> None:
    path = _db(tmp_path, runtime=case == "runtime", old_schema=case == "old_schema")
    fast, frames = _both(path, "Europe/Paris" if case == "paris" else "UTC")
    ties = np.flatnonzero((np.diff(frames.req_user) == 0) & (np.diff(frames.req_ts) == 0))
    assert len(ties) > 20  # six-hour instants: the fixture has ties for the id order to settle
    assert (np.diff(frames.rev_ts)[np.diff(frames.rev_user) == 0] == 0).sum() > 5
    _assert_same(fast, frames)
    assert (fast.req_recorded_reason is not None) == (case == "runtime")
    policy = seed_policy()
    for fold in (replay_fast, replay_plain):
        want, got = fold(frames, policy, "2026-03", "2026-03"), fold(fast, policy, "2026-03",
                                                                    "2026-03")
        pd.testing.assert_frame_equal(got.table, want.table)
        assert got.total == want.total


def test_a_tie_is_ordered_by_event_id_not_by_the_order_rows_were_written(tmp_path: Path
                                                                        ) -> None:
    when = datetime(2026, 3, 5, 12)
    us = int(pd.Timestamp(when).value // 1000)
    requests = pd.DataFrame({"event_id": ["b", "a", "c"], "user_id": ["+1"] * 3,
                             "ts_us": [us] * 3,
                             "action": ["meal_plan", "simple_message", "grocery_list"],
                             "cost_micro": [3, 1, 2]})
    empty_rev = pd.DataFrame({"event_id": [], "user_id": [], "ts_us": [], "stream": [],
                              "amount_micro": [], "tokens": pd.array([], dtype="Int64")})
    empty_clk = pd.DataFrame({"event_id": [], "user_id": [], "ts_us": []})
    path = write_db(tmp_path / "tie.duckdb", requests, empty_rev, empty_clk)
    fast, _ = _both(path)
    assert list(fast.req_action) == ["simple_message", "meal_plan", "grocery_list"]
    assert list(fast.req_cost) == [1, 3, 2]


@pytest.mark.parametrize("case", ["plain", "runtime"])
def test_a_read_streamed_in_many_batches_hands_the_fold_the_same_columns(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str) -> None:
    from queries import history

    path = _db(tmp_path, runtime=case == "runtime")
    whole, frames = _both(path)
    batches = []
    add = history._Rows.add
    monkeypatch.setattr(history._Rows, "add", lambda self, b: (batches.append(len(b)),
                                                               add(self, b))[1])
    monkeypatch.setattr(history, "BATCH_ROWS", 1000)
    pieces, _ = _both(path)
    assert len(batches) >= 5 and max(batches) <= 2048  # many batches, each cut and joined
    _assert_same(pieces, frames)
    for name in COLUMNS:
        a, b = getattr(pieces, name), getattr(whole, name)
        assert (a is None) == (b is None) and (a is None or list(a) == list(b)), name
