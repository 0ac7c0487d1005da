"""Replaying history under a policy: the plain fold of `decide`, and the shared summary.

The plain replay is the reference: it folds each user's events, in the spec's order,
through `fold.UserFold`, which calls `decide` for every request exactly as the chatbot
would have. `fast_replay` must give the same table to the micro-dollar (a Hypothesis
test holds it to that).

History arrives as a `History`: plain numpy columns (money in micro-dollars, instants in
micro-seconds since the epoch, UTC). Reading it from DuckDB is the shell's job
(`queries/history.py`), never this module's. The instant and month helpers live in
`months.py` and the token credit in `fold.py`; they are re-exported here, where their
callers have always imported them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np
import pandas as pd

from enforcement.decide import level_of
from enforcement.event_order import settle_ties, user_time_order
from enforcement.fold import MonthTally, UserFold, events_by_user, tokens_credited
from enforcement.levels import LEVELS, NOT_SERVED_REASONS
from enforcement.money import to_micro, usd
from enforcement.months import (
    EPOCH,
    from_us,
    month_label,
    month_of,
    month_range_us,
    month_start_us,
    parse_month,
    to_us,
)
from enforcement.policy import Policy

__all__ = [
    "EPOCH", "TABLE_COLUMNS", "History", "ReplayResult", "finish", "from_us", "month_label",
    "month_of", "month_range_us", "month_start_us", "parse_month", "replay_plain",
    "resolve_months", "summarize", "table_frame", "to_us", "tokens_credited",
]

TABLE_COLUMNS = [
    "user_id", "month", "requests", "served",
    *(f"not_served_{r}" for r in NOT_SERVED_REASONS),
    "tokens_spent", "cost", "revenue", "profit", "level",
]


# -- the input -----------------------------------------------------------------------------
def _objects(values: list[Any]) -> np.ndarray:
    arr = np.empty(len(values), dtype=object)
    arr[:] = values
    return arr


@dataclass(frozen=True, eq=False)  # numpy columns: identity equality, hashable for caches
class History:
    """Three event kinds as numpy columns, each sorted by (user, ts, event_id).

    `users` holds the user ids (sorted); `*_user` columns are indexes into it. Money is
    int64 micro-dollars, `*_ts` int64 micro-seconds since the epoch (UTC). `rev_tokens`
    is -1 where the source did not record the tokens credited (`rev_has_tokens` False).
    """

    users: np.ndarray
    req_user: np.ndarray
    req_ts: np.ndarray
    req_action: np.ndarray | pd.Categorical  # action names (either compares, takes, lists)
    req_cost: np.ndarray
    # Ranks that order ties as the event ids do; None where each request's rank is its
    # position (the DuckDB read: 45 M of them were 360 MB at 1,000,000 users). Read them
    # through `request_ids`.
    req_event_id: np.ndarray | None
    rev_user: np.ndarray
    rev_ts: np.ndarray
    rev_stream: np.ndarray  # object: stream names
    rev_amount: np.ndarray
    rev_tokens: np.ndarray
    rev_has_tokens: np.ndarray
    rev_event_id: np.ndarray
    clk_user: np.ndarray
    clk_ts: np.ndarray
    clk_event_id: np.ndarray
    _cache: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    # What the chatbot's runtime recorded per request, aligned with `req_*` (None for
    # history without it): the cost incurred as counted (µ$; a completion's measured cost
    # where one replaced the decision's), the decision's reason (None where not recorded)
    # and the tokens it spent (-1 where not recorded). Only "history as recorded" reads them.
    req_recorded_cost: np.ndarray | None = None
    req_recorded_reason: np.ndarray | None = None
    req_recorded_tokens: np.ndarray | None = None

    @property
    def n_requests(self) -> int:
        return len(self.req_ts)

    def request_ids(self, rows: np.ndarray) -> np.ndarray:
        """The ranks of the requests at positions `rows`."""
        return np.asarray(rows) if self.req_event_id is None else self.req_event_id[rows]

    @classmethod
    def from_rows(
        cls,
        requests: Iterable[tuple[str, str, datetime, str, Any]] = (),
        revenue: Iterable[tuple[str, str, datetime, str, Any, int | None]] = (),
        clicks: Iterable[tuple[str, str, datetime]] = (),
    ) -> History:
        """Small histories for tests and scripts.

        requests: (event_id, user_id, ts, action, cost_usd); revenue: (event_id, user_id,
        ts, stream, amount_usd, tokens or None); clicks: (event_id, user_id, ts).
        Money in USD as Decimal or decimal string (an int means whole dollars); instants
        naive (UTC) or aware.
        """
        req, rev, clk = list(requests), list(revenue), list(clicks)
        return cls.from_frames(
            pd.DataFrame({
                "event_id": _objects([r[0] for r in req]),
                "user_id": _objects([r[1] for r in req]),
                "ts_us": np.array([to_us(r[2]) for r in req], dtype=np.int64),
                "action": _objects([r[3] for r in req]),
                "cost_micro": np.array([to_micro(r[4]) for r in req], dtype=np.int64),
            }),
            pd.DataFrame({
                "event_id": _objects([r[0] for r in rev]),
                "user_id": _objects([r[1] for r in rev]),
                "ts_us": np.array([to_us(r[2]) for r in rev], dtype=np.int64),
                "stream": _objects([r[3] for r in rev]),
                "amount_micro": np.array([to_micro(r[4]) for r in rev], dtype=np.int64),
                "tokens": pd.array([r[5] for r in rev], dtype="Int64"),
            }),
            pd.DataFrame({
                "event_id": _objects([r[0] for r in clk]),
                "user_id": _objects([r[1] for r in clk]),
                "ts_us": np.array([to_us(r[2]) for r in clk], dtype=np.int64),
            }),
        )

    @classmethod
    def from_frames(cls, requests: pd.DataFrame, revenue: pd.DataFrame,
                    clicks: pd.DataFrame) -> History:
        """Build from frames with integer columns (what `queries/history.py` returns).

        requests: event_id, user_id, ts_us, action, cost_micro (and optionally what the
        runtime recorded: recorded_cost_micro, recorded_reason, recorded_tokens); revenue:
        event_id, user_id, ts_us, stream, amount_micro, tokens (nullable); clicks: event_id,
        user_id, ts_us.
        """
        all_users = pd.concat([requests["user_id"], revenue["user_id"], clicks["user_id"]],
                              ignore_index=True).astype(object)
        codes, users = pd.factorize(all_users, sort=True)
        codes = codes.astype(np.int64)
        n1, n2 = len(requests), len(revenue)
        req_u, rev_u, clk_u = codes[:n1], codes[n1:n1 + n2], codes[n1 + n2:]

        def col(df: pd.DataFrame, name: str, dtype: Any) -> np.ndarray:
            return df[name].to_numpy(dtype=dtype)

        req_ts, clk_ts = col(requests, "ts_us", np.int64), col(clicks, "ts_us", np.int64)
        rev_ts = col(revenue, "ts_us", np.int64)
        req_eid, rev_eid = col(requests, "event_id", object), col(revenue, "event_id", object)
        clk_eid = col(clicks, "event_id", object)
        p_req = _order(req_u, req_ts, req_eid)
        p_rev = _order(rev_u, rev_ts, rev_eid)
        p_clk = _order(clk_u, clk_ts, clk_eid)
        recorded: dict[str, Any] = {}
        if "recorded_reason" in requests.columns:
            recorded = {
                "req_recorded_cost": col(requests, "recorded_cost_micro", np.int64)[p_req],
                "req_recorded_reason": col(requests, "recorded_reason", object)[p_req],
                "req_recorded_tokens": col(requests, "recorded_tokens", np.int64)[p_req],
            }
        tokens = revenue["tokens"]
        has_tokens = tokens.notna().to_numpy(dtype=bool)
        tokens_arr = tokens.fillna(-1).to_numpy(dtype=np.int64)
        return cls(
            users=np.asarray(users, dtype=object),
            req_user=req_u[p_req], req_ts=req_ts[p_req],
            req_action=col(requests, "action", object)[p_req],
            req_cost=col(requests, "cost_micro", np.int64)[p_req], req_event_id=req_eid[p_req],
            rev_user=rev_u[p_rev], rev_ts=rev_ts[p_rev],
            rev_stream=col(revenue, "stream", object)[p_rev],
            rev_amount=col(revenue, "amount_micro", np.int64)[p_rev],
            rev_tokens=tokens_arr[p_rev], rev_has_tokens=has_tokens[p_rev],
            rev_event_id=rev_eid[p_rev],
            clk_user=clk_u[p_clk], clk_ts=clk_ts[p_clk], clk_event_id=clk_eid[p_clk],
            **recorded,
        )


def _order(user: np.ndarray, ts: np.ndarray, eid: np.ndarray) -> np.ndarray:
    """The permutation sorting by (user, ts, event_id) (`event_order`'s linear sort)."""
    n_users = int(user.max()) + 1 if len(user) else 0
    order = user_time_order(user, ts, n_users)
    return settle_ties(order, user, ts, lambda rows: eid[rows].astype(str))


# -- the result ------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReplayResult:
    """The per-user-month table (money columns int micro-dollars) and its summaries."""

    policy: str
    table: pd.DataFrame
    months: dict[str, dict[str, Any]]
    total: dict[str, Any]


LEVEL_NAMES = [lv.value for lv in LEVELS]


def level_column(levels: Any) -> pd.Categorical:
    """Levels as a Categorical in LEVELS order: from their names, or from their ranks.

    Its codes are the ranks, so comparing two replays' levels needs no string work (a
    million names took What-if's one edit 0.5 s as pandas' Arrow strings).
    """
    values = np.asarray(levels)
    if values.dtype.kind in "iu":
        return pd.Categorical.from_codes(values, categories=LEVEL_NAMES)
    return pd.Categorical(values.astype(object), categories=LEVEL_NAMES)


def table_frame(columns: dict[str, Any]) -> pd.DataFrame:
    """The one constructor both engines use, so their frames compare equal dtype for dtype."""
    frame = pd.DataFrame({
        "user_id": pd.array(np.asarray(columns["user_id"], dtype=object), dtype=object),
        "month": pd.array(np.asarray(columns["month"], dtype=object), dtype=object),
        **{c: np.asarray(columns[c], dtype=np.int64) for c in TABLE_COLUMNS[2:-1]},
        "level": level_column(columns["level"]),
    })
    # Both engines emit rows by user code (= sorted user_id), then month: no sort needed.
    return frame


def summarize(table: pd.DataFrame, policy: Policy, months: Sequence[str]
              ) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """Per-month summaries over the table's rows, and the same keys summed over the range."""
    per_month = {m: _summary(table[table["month"] == m], policy) for m in months}
    return per_month, _summary(table[table["month"].isin(list(months))], policy)


def _summary(rows: pd.DataFrame, policy: Policy) -> dict[str, Any]:
    active = rows[rows["requests"] > 0]
    users = len(active)
    at_target = int((active["profit"] >= policy.target).sum())
    pct = None
    if users:
        pct = (Decimal(100 * at_target) / Decimal(users)).quantize(Decimal("0.01"), ROUND_HALF_UP)
    counts = active["level"].value_counts()
    return {
        "users": users,
        "users_at_target": at_target,
        "users_at_target_pct": pct,
        "users_by_level": {lv.value: int(counts.get(lv.value, 0)) for lv in LEVELS},
        "requests": int(rows["requests"].sum()),
        "served": int(rows["served"].sum()),
        "not_served": {r: int(rows[f"not_served_{r}"].sum()) for r in NOT_SERVED_REASONS},
        "tokens_spent": int(rows["tokens_spent"].sum()),
        "cost_usd": usd(int(rows["cost"].sum())),
        "revenue_usd": usd(int(rows["revenue"].sum())),
        "profit_usd": usd(int(rows["profit"].sum())),
    }


def resolve_months(history: History, policy: Policy, start: str | None, end: str | None
                   ) -> tuple[int, int] | None:
    """The month-index range to replay: as given, else the span of requests and revenue."""
    if start is not None and end is not None:
        return parse_month(start), parse_month(end)
    stamps = np.concatenate([history.req_ts, history.rev_ts])
    if not len(stamps):
        return None
    first = month_of(int(stamps.min()), policy.timezone)
    last = month_of(int(stamps.max()), policy.timezone)
    return (parse_month(start) if start else first, parse_month(end) if end else last)


def finish(policy: Policy, columns: dict[str, Any], span: tuple[int, int] | None) -> ReplayResult:
    table = table_frame(columns)
    labels = [month_label(i) for i in range(span[0], span[1] + 1)] if span else []
    months, total = summarize(table, policy, labels)
    return ReplayResult(policy.name, table, months, total)


def _append_row(cols: dict[str, list[Any]], user_id: str, tally: MonthTally,
                policy: Policy) -> None:
    """Close a user-month: its counts, its money and the level at month end,
    level_of(cost, revenue)."""
    cols["user_id"].append(user_id)
    cols["month"].append(month_label(tally.month))
    cols["requests"].append(tally.requests)
    cols["served"].append(tally.served)
    for reason in NOT_SERVED_REASONS:
        cols[f"not_served_{reason}"].append(tally.not_served[reason])
    cols["tokens_spent"].append(tally.tokens_spent)
    cols["cost"].append(tally.cost)
    cols["revenue"].append(tally.revenue)
    cols["profit"].append(tally.revenue - tally.cost)
    cols["level"].append(level_of(tally.cost, tally.revenue, policy).value)


# -- the plain replay --------------------------------------------------------------------------
def replay_plain(history: History, policy: Policy, start: str | None = None,
                 end: str | None = None) -> ReplayResult:
    """The reference replay: every user's events in the spec's order through `UserFold`,
    one `decide` per request."""
    span = resolve_months(history, policy, start, end)
    cols: dict[str, list[Any]] = {c: [] for c in TABLE_COLUMNS}
    if span is None:
        return finish(policy, cols, span)
    lo, hi = month_start_us(span[0], policy.timezone), month_start_us(span[1] + 1, policy.timezone)
    for u, events in sorted(events_by_user(history, lo, hi).items()):
        user_id = str(history.users[u])
        for tally in UserFold(policy).feed(events).months:
            _append_row(cols, user_id, tally, policy)
    return finish(policy, cols, span)
