"""What-if: a candidate policy against a baseline, over loaded history. Pure computation.

The What-if page is a thin shell around this module: it loads history once (a `History`),
edits a policy in its flat dotted-key form, and asks here for the figures. Every decision
still comes from `decide` (through `replay_fast`, held equal to the plain fold by its own
tests), so the panel never holds a copy of the rules.

No Streamlit or DuckDB here, so every figure the page shows is testable in microseconds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np
import pandas as pd

from enforcement.decide import State
from enforcement.fast_replay import replay_fast
from enforcement.fold import UserFold, events_by_user
from enforcement.level_arrays import level_names
from enforcement.levels import LEVELS, NOT_SERVED_REASONS, Level
from enforcement.money import to_micro, usd
from enforcement.months import month_label, month_start_us, parse_month
from enforcement.policy import Policy, PolicyError
from enforcement.replay import LEVEL_NAMES, History, ReplayResult, finish, level_column
from enforcement.user_month_sums import COUNT, FIRST_REASON, POSITIVE, SUM, user_month_sums

RECORDED = "history as recorded"
_EARLIEST = int(np.iinfo(np.int64).min)  # the probe folds from the first loaded event

# -- the policy's keys, grouped as a founder thinks of them -------------------------------
GROUPS: tuple[str, ...] = ("Thresholds", "Profit bands", "Tokens and token costs",
                           "Cost factors", "Affiliate unlock", "Name, timezone, system")


def group_of(key: str) -> str:
    """The panel group a dotted key is edited in."""
    if key.startswith("thresholds."):
        return "Thresholds"
    if key.startswith(("levels.", "profit.")):
        return "Profit bands"
    if key.startswith("tokens."):
        return "Tokens and token costs"
    if key.startswith("cost_factor_bp."):
        return "Cost factors"
    if key.startswith("affiliate."):
        return "Affiliate unlock"
    return "Name, timezone, system"


def grouped_keys(policy: Policy) -> dict[str, list[str]]:
    """Every key of the policy, in file order, under its group."""
    groups: dict[str, list[str]] = {g: [] for g in GROUPS}
    for key in policy.to_flat():
        groups[group_of(key)].append(key)
    return groups


def kind_of(key: str, value: Any) -> str:
    """How a key is edited: money (exact decimal text), count, factor (bp), list, text."""
    if isinstance(value, Decimal):
        return "money"
    if isinstance(value, list | tuple):
        return "list"
    if isinstance(value, int):
        return "factor" if key.startswith("cost_factor_bp.") else "count"
    return "text"


def to_text(value: Any) -> str:
    """A flat value as the panel's text field shows it (and a share link carries it)."""
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def from_text(kind: str, text: str) -> Any:
    """A text field back to a flat value; the policy loader judges it (never a float)."""
    text = text.strip()
    if kind == "list":
        return [part.strip() for part in text.split(",") if part.strip()]
    if kind in ("count", "factor"):
        try:
            return int(text)
        except ValueError:
            return text  # the loader refuses it with its own message
    return text


def changed_keys(start: Policy, values: dict[str, Any]) -> dict[str, Any]:
    """The edits that differ from the start (compared as the loader would read them)."""
    flat = start.to_flat()
    out: dict[str, Any] = {}
    for key, value in values.items():
        old = flat.get(key)
        if isinstance(old, Decimal):
            try:
                if to_micro(value) == to_micro(old):
                    continue
            except ValueError:
                pass
        elif (isinstance(old, list) and list(value) == old) or old == value:
            continue
        out[key] = value
    return out


def apply_edits(start: Policy, edits: dict[str, Any]) -> tuple[Policy | None, dict[str, str]]:
    """The edited policy, or None with the loader's message per key (a panel shows it there)."""
    try:
        return start.with_changes(edits), {}
    except PolicyError as exc:
        messages: dict[str, str] = {}
        for key, message in exc.errors:
            messages[key] = f"{messages[key]}; {message}" if key in messages else message
        return None, messages


# -- the baseline: history as it was recorded ---------------------------------------------
def month_span(first: str, last: str) -> tuple[int, int]:
    """Month indexes of an inclusive range of YYYY-MM labels."""
    lo, hi = parse_month(first), parse_month(last)
    if hi < lo:
        raise ValueError(f"end month {last} is before start month {first}")
    return lo, hi


def recorded(history: History, policy: Policy, first: str, last: str) -> ReplayResult:
    """What history recorded, summarised like a replay (levels judged by `policy`).

    The chatbot's runtime records each decision (served or its reason, tokens spent) and
    the cost it incurred: those requests count as they were decided. The original service
    recorded only costs (even for refused requests), so its requests count as served with
    no tokens, and the page says "not recorded" unless `decisions_recorded` holds. Cost,
    revenue, profit, users at target and levels are exact either way.
    """
    span = month_span(first, last)
    tz = policy.timezone
    bounds = np.array([month_start_us(m, tz) for m in range(span[0], span[1] + 2)], np.int64)
    req_cost = history.req_recorded_cost if history.req_recorded_cost is not None \
        else history.req_cost
    # Reasons as codes into NOT_SERVED_REASONS (-1: served, or not recorded at all).
    reasons = None if history.req_recorded_reason is None else pd.Index(
        NOT_SERVED_REASONS).get_indexer(history.req_recorded_reason).astype(np.int8)
    tokens = history.req_recorded_tokens  # -1 (none recorded) counts as 0 spent

    n_users, n_months = len(history.users), len(bounds) - 1
    req = user_month_sums(history.req_user, history.req_ts, bounds, n_users, req_cost,
                          tokens, reasons, len(NOT_SERVED_REASONS))
    rev = user_month_sums(history.rev_user, history.rev_ts, bounds, n_users,
                          history.rev_amount)
    keys = np.flatnonzero((req[:, COUNT] > 0) | (rev[:, COUNT] > 0))  # by user, then month
    req, rev = req[keys], rev[keys]
    refused = req[:, FIRST_REASON:].sum(axis=1)
    cost, revenue = req[:, SUM], rev[:, SUM]
    labels = np.array([month_label(span[0] + i) for i in range(n_months)], dtype=object)
    columns: dict[str, Any] = {
        "user_id": history.users[keys // n_months],
        "month": labels[keys % n_months],
        "requests": req[:, COUNT], "served": req[:, COUNT] - refused,
        **{f"not_served_{r}": req[:, FIRST_REASON + i]
           for i, r in enumerate(NOT_SERVED_REASONS)},
        "tokens_spent": req[:, POSITIVE],
        "cost": cost, "revenue": revenue,
        "profit": revenue - cost, "level": level_names(cost, revenue, policy),
    }
    result = finish(policy, columns, span)
    return ReplayResult(RECORDED, result.table, result.months, result.total)


def decisions_recorded(history: History, policy: Policy, first: str, last: str) -> bool:
    """Whether every request of the months was recorded with its decision (the runtime
    wrote them), so "history as recorded" can show served, refused and tokens."""
    if history.req_recorded_reason is None:
        return False
    span = month_span(first, last)
    lo, hi = month_start_us(span[0], policy.timezone), month_start_us(span[1] + 1,
                                                                        policy.timezone)
    mask = (history.req_ts >= lo) & (history.req_ts < hi)
    reasons = history.req_recorded_reason[mask]
    return bool(len(reasons)) and all(r is not None for r in reasons)


def replay(history: History, policy: Policy, first: str, last: str) -> ReplayResult:
    """The candidate (or the start) replayed: the fast engine, equal to the plain fold."""
    return replay_fast(history, policy, first, last)


# -- side by side ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Figure:
    """One row of the comparison: `kind` is money, count, pct or per_user (money)."""

    label: str
    kind: str
    baseline: Any
    candidate: Any

    @property
    def change(self) -> Any:
        if self.baseline is None or self.candidate is None:
            return None
        return self.candidate - self.baseline


def per_user(summary: dict[str, Any]) -> Decimal | None:
    """Total profit over the users with a request (cents, half up), as the KPI defines it."""
    if not summary["users"]:
        return None
    return (summary["profit_usd"] / summary["users"]).quantize(Decimal("0.01"), ROUND_HALF_UP)


NOT_SERVED_LABELS = {"payment_required": "Not served: payment required",
                     "affiliate_required": "Not served: affiliate required",
                     "insufficient_tokens": "Not served: insufficient tokens"}


def comparison(base: dict[str, Any], cand: dict[str, Any], base_recorded: bool
               ) -> list[Figure]:
    """Every headline figure, baseline beside candidate; None where history has no record."""
    def b(value: Any) -> Any:
        return None if base_recorded else value

    rows = [
        Figure("Users at target", "count", base["users_at_target"], cand["users_at_target"]),
        Figure("Share at target", "pct", base["users_at_target_pct"],
               cand["users_at_target_pct"]),
        Figure("Users (with a request)", "count", base["users"], cand["users"]),
        Figure("Total profit", "money", base["profit_usd"], cand["profit_usd"]),
        Figure("Profit per user", "money", per_user(base), per_user(cand)),
        Figure("Cost", "money", base["cost_usd"], cand["cost_usd"]),
        Figure("Revenue", "money", base["revenue_usd"], cand["revenue_usd"]),
        Figure("Requests", "count", base["requests"], cand["requests"]),
        Figure("Served", "count", b(base["served"]), cand["served"]),
        Figure("Not served", "count", b(sum(base["not_served"].values())),
               sum(cand["not_served"].values())),
    ]
    rows += [Figure(NOT_SERVED_LABELS[r], "count", b(base["not_served"][r]),
                    cand["not_served"][r]) for r in NOT_SERVED_REASONS]
    rows.append(Figure("Tokens spent", "count", b(base["tokens_spent"]), cand["tokens_spent"]))
    rows += [Figure(f"Users at level {lv.value}", "count", base["users_by_level"][lv.value],
                    cand["users_by_level"][lv.value]) for lv in LEVELS]
    return rows


def who_changes(base: pd.DataFrame, cand: pd.DataFrame, limit: int = 25) -> pd.DataFrame:
    """User-months whose level or profit moved most: level shift first, then |profit change|.

    Columns: user_id, month, level_before, level_after, profit_before, profit_after,
    profit_change (Decimal USD). Only rows where something changed.
    """
    keys = ["user_id", "month"]
    cols = keys + ["level", "profit"]
    aligned = len(base) == len(cand) and all(
        base[k].array.equals(cand[k].array) for k in keys)
    if aligned:  # replays of one history have the same user-months, in the same order
        b, c = base[cols].reset_index(drop=True), cand[cols].reset_index(drop=True)
    else:
        merged = base[cols].merge(cand[cols], on=keys, how="outer", suffixes=("_b", "_a"))
        merged = merged.sort_values(keys, kind="stable").reset_index(drop=True)
        fill = {"level": Level.NORMAL.value, "profit": 0}
        b = pd.DataFrame({**{k: merged[k] for k in keys},
                          **{f: merged[f"{f}_b"].fillna(v) for f, v in fill.items()}})
        c = pd.DataFrame({**{k: merged[k] for k in keys},
                          **{f: merged[f"{f}_a"].fillna(v) for f, v in fill.items()}})
    rank_b, rank_a = _ranks(b["level"]), _ranks(c["level"])
    profit_b = b["profit"].to_numpy(dtype=np.int64)
    profit_a = c["profit"].to_numpy(dtype=np.int64)
    shift, delta = np.abs(rank_a - rank_b), profit_a - profit_b
    moved = np.flatnonzero((shift > 0) | (delta != 0))
    # Largest shift, then largest |change|, then (user, month) order (the rows' order).
    top = moved[np.lexsort((moved, -np.abs(delta[moved]), -shift[moved]))][:limit]

    def picked(frame: pd.DataFrame, column: str) -> np.ndarray:
        return frame[column].iloc[top].to_numpy(dtype=object)  # only the shown rows as text

    return pd.DataFrame({
        "user_id": picked(b, "user_id"), "month": picked(b, "month"),
        "level_before": picked(b, "level"), "level_after": picked(c, "level"),
        "profit_before": [usd(int(v)) for v in profit_b[top]],
        "profit_after": [usd(int(v)) for v in profit_a[top]],
        "profit_change": [usd(int(v)) for v in delta[top]],
    })


def _ranks(levels: pd.Series) -> np.ndarray:
    """Each level's rank (its place in LEVELS): a replay table's codes, else from names."""
    if isinstance(levels.dtype, pd.CategoricalDtype) and list(levels.cat.categories) == LEVEL_NAMES:
        return levels.cat.codes.to_numpy(dtype=np.int64)
    return level_column(levels.to_numpy(dtype=object)).codes.astype(np.int64)


# -- the sensitivity sweep -------------------------------------------------------------------
SWEEPABLE = ("money", "count", "factor")
CENT = 10_000  # micro-dollars


def sweep_values(low: Any, high: Any, steps: int, kind: str) -> list[Any]:
    """`steps` evenly spaced values from low to high inclusive, exact (µ$ or whole numbers)."""
    if steps < 2:
        raise ValueError("a sweep needs at least 2 steps")
    if kind == "money":
        lo, hi = to_micro(low), to_micro(high)
        points = [lo + (hi - lo) * i // (steps - 1) for i in range(steps)]
        if lo % CENT == 0 and hi % CENT == 0:  # whole-cent ends: whole-cent steps (half up)
            points = [(p + CENT // 2) // CENT * CENT for p in points]
        return list(dict.fromkeys(usd(p) for p in points))
    lo, hi = int(low), int(high)
    return list(dict.fromkeys(lo + (hi - lo) * i // (steps - 1) for i in range(steps)))


def with_current(values: list[Any], current: Any, kind: str) -> list[Any]:
    """The sweep's values plus the current one (when inside the range), in order: the
    curve then passes through the point the page compares against."""
    if not values or kind not in SWEEPABLE:
        return values
    lo, hi = min(values), max(values)
    if lo <= current <= hi and current not in values:
        values = sorted([*values, current])
    return values


def default_range(policy: Policy, key: str) -> tuple[Any, Any]:
    """Half to one and a half times the current value, narrowed to what the loader accepts
    (a cutoff cannot go below the restriction), so a default sweep wastes no step."""
    current = policy.to_flat()[key]
    kind = kind_of(key, current)
    if kind == "money":
        now = to_micro(current)
        lo, hi = now // 2 // CENT * CENT, (now * 3 // 2 + CENT - 1) // CENT * CENT
        hi = max(hi, now + 100 * CENT) if now == 0 else hi  # a zero still gets a range
        step = CENT
    else:
        now = int(current)
        lo, hi, step = now // 2, max(now * 3 // 2, now + 1), 1
        if kind == "factor":
            hi = 10_000 if now == 0 else min(hi, 10_000)

    def ok(value: int) -> bool:
        try:
            policy.with_changes({key: usd(value) if kind == "money" else value})
        except PolicyError:
            return False
        return True

    # The accepted values form an interval around the current one: bisect each end.
    a, b = lo, now  # first accepted in [lo, now]
    while a < b:
        mid = (a + b) // 2 // step * step
        if ok(mid):
            b = mid
        else:
            a = mid + step
    c, d = now, hi  # last accepted in [now, hi]
    while c < d:
        mid = -(-(c + d) // 2 // step) * step if step == 1 else ((c + d) // 2 + step - 1) \
            // step * step
        if ok(mid):
            c = mid
        else:
            d = mid - step
    if kind == "money":
        return usd(a), usd(c)
    return a, c


def sweep(history: History, policy: Policy, key: str, values: Sequence[Any], first: str,
          last: str, progress: Callable[[int, int], None] | None = None) -> pd.DataFrame:
    """Replay `policy` with `key` set to each value; one row per value.

    The history's arrays are reused across steps (only the policy changes), so a step is
    one compiled fold. A value the loader refuses (e.g. a cutoff below the restriction)
    gets its message in `error` and no figures.
    """
    rows = []
    for i, value in enumerate(values):
        row: dict[str, Any] = {"value": value, "error": None, "users_at_target_pct": None,
                               "users_at_target": None, "profit_usd": None,
                               "not_served": None}
        try:
            candidate = policy.with_changes({key: value})
        except PolicyError as exc:
            row["error"] = "; ".join(f"{k}: {m}" for k, m in exc.errors)
        else:
            total = replay(history, candidate, first, last).total
            row.update(users_at_target_pct=total["users_at_target_pct"],
                       users_at_target=total["users_at_target"],
                       profit_usd=total["profit_usd"],
                       not_served=sum(total["not_served"].values()))
        rows.append(row)
        if progress is not None:
            progress(i + 1, len(values))
    return pd.DataFrame(rows)


# -- probing one request ---------------------------------------------------------------------
def month_to_date(history: History, user_id: str, now_us: int, policy: Policy) -> State:
    """The user's position just before `now` under `policy`: their loaded history folded
    through `decide` from the start of the loaded period, events before `now` only.

    The replay's own fold (`fold.UserFold`), so month resets, token credits and clicks
    carried over are the replay's; a test holds the two equal request by request.
    """
    hits = np.flatnonzero(history.users == user_id)
    if not len(hits):
        raise KeyError(f"no history for user {user_id!r}")
    u = int(hits[0])
    events = events_by_user(history, _EARLIEST, now_us, user=u).get(u, [])
    return UserFold(policy).feed(events).state_at(now_us)


def typical_cost(history: History, action: str) -> int:
    """The (upper) median recorded cost of an action (µ$): the probe's default; 0 if unseen."""
    costs = np.sort(history.req_cost[history.req_action == action])
    return int(costs[len(costs) // 2]) if len(costs) else 0
