"""The fast replay: the same fold as `replay_plain`, compiled with numba.

Why numba and not numpy: the fold is sequential per user (each decision depends on the
cost the previous one incurred), so it does not vectorise; a compiled loop over the
three pre-sorted event columns, merged on the fly, is linear and allocation-free.
`cache=True` keeps the compiled code on disk, so only the first run ever compiles.

It must equal the plain replay exactly; `tests/test_enforcement_fast.py` holds it to that
on random histories full of boundaries. It is the one compiled copy of `decide` and of the
month bookkeeping in `fold.py`: any rule change goes into both, or that test fails.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np
import pandas as pd

from enforcement.months import month_label, month_start_us
from enforcement.policy import Policy
from enforcement.replay import TABLE_COLUMNS, History, ReplayResult, finish, resolve_months

# Level ranks, as in levels.LEVELS.
NORMAL, REDUCED, BASIC, GATED, PAYMENT = 0, 1, 2, 3, 4


@numba.njit(cache=True, inline="always")
def _level_of(cost: int, revenue: int, p: np.ndarray) -> int:
    # p: target, free_tier, warning, restriction, cutoff, band_normal, band_reduced, band_basic
    profit = revenue - cost
    below = profit < p[0]
    if cost > p[4] and below:
        return PAYMENT
    if cost <= p[1] or profit > p[5]:
        level = NORMAL
    elif profit > p[6]:
        level = REDUCED
    elif profit > p[7]:
        level = BASIC
    else:
        level = GATED
    if cost > p[3] and below and level < REDUCED:
        level = REDUCED
    return level


@numba.njit(cache=True)
def _fold(
    req_user, req_ts, req_cost, req_code, need_by_code, system_by_code,
    rev_user, rev_ts, rev_amount, rev_tokens, rev_premium,
    clk_user, clk_ts,
    bounds, p, factors, free_monthly, unlock_us, cap,
):  # pragma: no cover - compiled; equality with the plain replay is tested
    n_req, n_rev, n_clk = len(req_ts), len(rev_ts), len(clk_ts)
    o_user = np.empty(cap, np.int64)
    o_month = np.empty(cap, np.int64)
    o_cnt = np.zeros((cap, 6), np.int64)  # requests, served, pay, aff, tok, tokens_spent
    o_cost = np.empty(cap, np.int64)
    o_rev = np.empty(cap, np.int64)
    o_level = np.empty(cap, np.int64)
    rows = -1
    big = np.iinfo(np.int64).max
    i = j = k = 0
    cu = -1
    cm = -1
    cost = revenue = free = paid = 0
    premium = False
    has_click = False
    last_click = 0
    lo = bounds[0]
    hi = bounds[-1]
    m_lo = m_hi = 0  # the current month's [start, end), UTC micro-seconds
    while i < n_req or j < n_rev or k < n_clk:
        # Next event in (user, ts) order; at a tie revenue, then clicks, then requests.
        ru = req_user[i] if i < n_req else big
        rt = req_ts[i] if i < n_req else big
        vu = rev_user[j] if j < n_rev else big
        vt = rev_ts[j] if j < n_rev else big
        cku = clk_user[k] if k < n_clk else big
        ckt = clk_ts[k] if k < n_clk else big
        kind = 2
        bu, bt = ru, rt
        if cku < bu or (cku == bu and ckt <= bt):
            kind, bu, bt = 1, cku, ckt
        if vu < bu or (vu == bu and vt <= bt):
            kind, bu, bt = 0, vu, vt
        if bt < lo or bt >= hi:  # outside the replayed months: as if never recorded
            if kind == 0:
                j += 1
            elif kind == 1:
                k += 1
            else:
                i += 1
            continue
        if bu != cu:
            if cm >= 0 and rows >= 0:
                o_cost[rows] = cost
                o_rev[rows] = revenue
                o_level[rows] = _level_of(cost, revenue, p)
            cu = bu
            cm = -1
            paid = 0
            has_click = False
        if kind == 1:
            has_click = True
            last_click = ckt
            k += 1
            continue
        if cm < 0 or bt < m_lo or bt >= m_hi:
            m = np.searchsorted(bounds, bt, side="right") - 1
            m_lo = bounds[m]
            m_hi = bounds[m + 1]
        else:
            m = cm
        if m != cm:
            if cm >= 0:
                o_cost[rows] = cost
                o_rev[rows] = revenue
                o_level[rows] = _level_of(cost, revenue, p)
            cm = m
            rows += 1
            if rows >= cap:  # only a history out of (user, instant) order gets here
                raise ValueError("more user-months than users x months")
            o_user[rows] = cu
            o_month[rows] = m
            cost = 0
            revenue = 0
            free = free_monthly
            premium = False
        if kind == 0:
            revenue += rev_amount[j]
            paid += rev_tokens[j]
            if rev_premium[j]:
                premium = True
            j += 1
            continue
        # One request: decide(), inlined.
        est = req_cost[i]
        o_cnt[rows, 0] += 1
        code = req_code[i]
        if system_by_code[code]:
            o_cnt[rows, 1] += 1
            cost += est
            i += 1
            continue
        projected = cost + est
        level = _level_of(projected, revenue, p)
        if level == PAYMENT:
            o_cnt[rows, 2] += 1
            i += 1
            continue
        if level == GATED:
            if has_click and req_ts[i] - last_click <= unlock_us:
                level = BASIC
            else:
                o_cnt[rows, 3] += 1
                cost += (est * factors[GATED] + 5000) // 10000
                i += 1
                continue
        need = 0 if premium else need_by_code[code]
        if need > free + paid:
            o_cnt[rows, 4] += 1
            i += 1
            continue
        from_free = min(need, max(free, 0))
        free -= from_free
        paid -= need - from_free
        o_cnt[rows, 1] += 1
        o_cnt[rows, 5] += need
        cost += (est * factors[level] + 5000) // 10000
        i += 1
    if cm >= 0 and rows >= 0:
        o_cost[rows] = cost
        o_rev[rows] = revenue
        o_level[rows] = _level_of(cost, revenue, p)
    n = rows + 1
    return o_user[:n], o_month[:n], o_cnt[:n], o_cost[:n], o_rev[:n], o_level[:n]


def _action_codes(history: History) -> tuple[np.ndarray, np.ndarray]:
    """Action names as small integer codes; policy-independent, so computed once per history."""
    cached = history._cache.get("actions")
    if cached is None:
        codes, names = pd.factorize(pd.Series(history.req_action, dtype=object))
        cached = (codes.astype(np.int64), np.asarray(names, dtype=object))
        history._cache["actions"] = cached
    return cached


def replay_fast(history: History, policy: Policy, start: str | None = None,
                end: str | None = None) -> ReplayResult:
    """The compiled replay; same arguments and result as `replay_plain`."""
    span = resolve_months(history, policy, start, end)
    if span is None:
        return finish(policy, {c: [] for c in TABLE_COLUMNS}, span)
    tz = policy.timezone
    n_months = span[1] - span[0] + 1
    bounds = np.array([month_start_us(span[0] + m, tz) for m in range(n_months + 1)], np.int64)

    codes, names = _action_codes(history)
    need_by_code = np.array([policy.tokens_for(str(a)) for a in names], np.int64)
    system_by_code = np.array([a in policy.system_actions for a in names], np.bool_)

    stream, amount = history.rev_stream, history.rev_amount
    base = amount // policy.token_price
    base = np.where(amount >= policy.bonus_min, base + base * policy.bonus_pct // 100, base)
    credited = np.where(history.rev_has_tokens, history.rev_tokens, base)
    rev_tokens = np.where(stream == "tokens", credited, 0).astype(np.int64)
    rev_premium = ((stream == "premium") & (amount > 0)).astype(np.bool_)

    p = np.array([policy.target, policy.free_tier, policy.warning, policy.restriction,
                  policy.cutoff, policy.band_normal, policy.band_reduced_quality,
                  policy.band_basic_only], np.int64)
    users, months, counts, cost, revenue, level = _fold(
        history.req_user, history.req_ts, history.req_cost, codes, need_by_code, system_by_code,
        history.rev_user, history.rev_ts, amount, rev_tokens, rev_premium,
        history.clk_user, history.clk_ts,
        bounds, p, np.array(policy.factor_bp, np.int64), policy.free_monthly,
        policy.unlock_hours * 3_600_000_000,
        # A row per user-month with a request or revenue: at most this many (the bound was
        # the event count, and zeroing its counts touched 2 GB at 1,000,000 users).
        min(len(history.req_ts) + len(history.rev_ts), len(history.users) * n_months),
    )
    labels = np.array([month_label(span[0] + m) for m in range(n_months)], dtype=object)
    columns: dict[str, Any] = {
        "user_id": history.users[users], "month": labels[months],
        "requests": counts[:, 0], "served": counts[:, 1],
        "not_served_payment_required": counts[:, 2],
        "not_served_affiliate_required": counts[:, 3],
        "not_served_insufficient_tokens": counts[:, 4],
        "tokens_spent": counts[:, 5], "cost": cost, "revenue": revenue,
        "profit": revenue - cost, "level": level,  # ranks: table_frame names them
    }
    return finish(policy, columns, span)
