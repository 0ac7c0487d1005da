"""`python -m loaders demo`: a deterministic demo business, generated in vectorised chunks.

It is what a newcomer sees first, so it follows the seed's figures rather than uniform
noise: user segments by monthly token use, cohorts that arrive each month and are ~85%
retained, a daily and weekly rhythm, per-request costs built from the seed's unit prices,
the original service's estimate / `<action>_completed` pairs, all four revenue streams,
token balances that agree with purchases and spends, and affiliate funnels.

Everything is computed with numpy per chunk of users (never row by row) and handed to the
one loading path (`loaders.pipeline.load(..., fresh=True)`): a demo replaces the database.
Money is integer pico-dollars while it is built and integer micro-dollars when it is
written (DECIMAL(18,6)); no float ever holds money.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from loaders.pipeline import Chunk, LoadError, LoadResult, load
from loaders.progress import terminal_progress
from loaders.publish import new_version
from loaders.registry import Source

COMMAND = "demo"
HELP = "generate the demo business into a fresh database (replaces it)"

DEFAULT_USERS = 5_000
DEFAULT_MONTHS = 3
DEFAULT_SEED = 20260301
# Users per generated chunk. Fixed (not tuned to the machine) so that a seed gives the
# same data everywhere: each chunk draws from its own stream, seeded by (seed, chunk).
CHUNK_USERS = 25_000
SOURCE = "demo"

# --- users --------------------------------------------------------------------------
SEGMENTS = ("casual", "active", "power")
SEGMENT_SHARE = (0.60, 0.28, 0.12)
# Tokens of requests served in a whole month (the seed: 60-100, 100-200, 200-300).
SEGMENT_TOKENS = ((60, 100), (100, 200), (200, 300))
RETENTION = 0.85            # share of a month's users still active the next month
GROWTH = 0.06               # month-on-month growth of active users
NEW_SHARE_FIRST_MONTH = 0.21  # users of the first month who arrive during it
PLANS = ("none", "premium", "family", "enterprise")
PLAN_PRICE_UMICRO = (0, 5_000_000, 15_000_000, 50_000_000)
PLAN_SHARE_BY_SEGMENT = ((0.93, 0.05, 0.015, 0.005),
                         (0.86, 0.09, 0.04, 0.01),
                         (0.78, 0.13, 0.06, 0.03))
DATA_CONSENT = 0.70
DATA_TIERS = (("anonymized_analytics", 500_000), ("usage_patterns", 1_000_000),
              ("usage_patterns", 1_500_000), ("preference_data", 2_000_000),
              ("preference_data", 3_000_000))
# Token packs: ($ in micro-dollars, tokens). 20% bonus from $5 (the rules' bonus_min).
PACKS = ((2_000_000, 40), (5_000_000, 120), (10_000_000, 240), (25_000_000, 600))
PACK_SHARE_BY_SEGMENT = ((0.25, 0.75, 0.0, 0.0), (0.0, 0.7, 0.3, 0.0), (0.0, 0.2, 0.5, 0.3))
# Users without a plan who top up with a pack in a month whether or not they run out.
VOLUNTARY_PURCHASE = (0.72, 0.75, 0.80)
FREE_MONTHLY = 100

# --- requests -------------------------------------------------------------------------
ACTIONS = ("simple_message", "meal_plan", "grocery_list", "nutrition_analysis",
           "recipe_search", "dietary_advice")
ACTION_SHARE = np.array([0.40, 0.20, 0.14, 0.12, 0.10, 0.04])
ACTION_TOKENS = np.array([1, 5, 2, 3, 2, 4], dtype=np.int64)   # rules.md [tokens.cost]
# What the enforcer estimated before serving (µ$): a fixed table, as the original service.
ESTIMATE_UMICRO = np.array([10_000, 80_000, 40_000, 30_000, 20_000, 25_000], dtype=np.int64)
CATEGORIES = ("ai", "messaging", "database", "lambda", "api_gateway", "external_api", "other")
ESTIMATE_CATEGORY = np.array([1, 0, 5, 5, 5, 1])
# Usage per action, inclusive ranges: WhatsApp messages, Haiku input / output tokens,
# external API calls, DynamoDB reads+writes, Lambda milliseconds (1 GB).
USAGE = {  # action: (msgs, in_tok, out_tok, ext_calls, db_ops, lambda_ms)
    "simple_message": ((1, 1), (400, 1500), (80, 400), (0, 0), (3, 6), (600, 2500)),
    "meal_plan": ((2, 4), (6000, 14000), (12000, 24000), (1, 3), (12, 30), (8000, 25000)),
    "grocery_list": ((1, 2), (1500, 4000), (1000, 3000), (2, 5), (6, 15), (3000, 9000)),
    "nutrition_analysis": ((1, 2), (1000, 3000), (600, 2000), (1, 4), (4, 10), (2000, 7000)),
    "recipe_search": ((1, 2), (500, 1500), (300, 1200), (1, 3), (3, 8), (1500, 5000)),
    "dietary_advice": ((1, 3), (1500, 4000), (1200, 3500), (0, 0), (4, 8), (2500, 8000)),
}
# Unit prices in pico-dollars (1e-12 USD), so every product below is an exact integer.
PRICE_IN_TOKEN = 250_000            # Claude 3 Haiku $0.00025 / 1K input tokens
PRICE_OUT_TOKEN = 1_250_000         # $0.00125 / 1K output tokens
PRICE_MESSAGE = 7_500_000_000       # WhatsApp $0.0075 / message
PRICE_DB_OP = 12_500_000            # DynamoDB $0.0000125 / read or write
PRICE_GATEWAY = 3_500_000           # API Gateway $0.0000035 / request (2 per request)
PRICE_LAMBDA_MS = 16_667            # Lambda $0.000016667 / GB-second, 1 GB, per ms
EXT_CALL_UMICRO = (1_000, 10_000)   # external API $0.001-0.01 / call
ERROR_RATE = 0.004                  # extra requests that fail (error_handling, $0.001)
ERROR_UMICRO = 1_000
MIN_GAP_US = 180_000_000            # one user's requests are >= 3 minutes apart

# --- affiliate ----------------------------------------------------------------------
# (partner, category index, order cents range, commission basis points range)
PARTNERS = (("Instacart", 0, (5_000, 20_000), (800, 1_500)),
            ("Amazon Fresh", 0, (5_000, 20_000), (800, 1_500)),
            ("HelloFresh", 1, (6_000, 15_000), (2_000, 2_500)),
            ("Home Chef", 1, (6_000, 15_000), (2_000, 2_500)),
            ("Thorne", 2, (2_500, 10_000), (1_000, 1_500)),
            ("Ritual", 2, (2_500, 10_000), (1_000, 1_500)))
# Partner category an action's answer recommends: grocery, meal kits, supplements.
ACTION_PARTNER_CATEGORY = np.array([0, 1, 0, 2, 1, 2])
SHOWN_RATE, CLICK_RATE, CONVERSION_RATE = 0.12, 0.15, 0.25
REFUND_RATE = 0.03          # share of plan payments and commissions reversed later

# Relative activity by UTC hour (weekday, weekend) and by weekday (Mon..Sun).
HOUR_WEEKDAY = np.array([2, 1, 1, 1, 1, 2, 5, 9, 10, 8, 7, 9, 13, 11, 8, 7, 8, 11,
                         14, 15, 13, 10, 7, 4], dtype=float)
HOUR_WEEKEND = np.array([4, 3, 2, 1, 1, 1, 2, 4, 7, 10, 12, 12, 12, 11, 10, 9, 10, 12,
                         13, 13, 12, 10, 8, 6], dtype=float)
WEEKDAY_WEIGHT = np.array([1.0, 1.0, 0.97, 0.97, 0.9, 0.85, 1.15])  # Sunday: meal planning

US_PER_S = 1_000_000
US_PER_DAY = 86_400 * US_PER_S


@dataclass(frozen=True)
class DemoSpec:
    """What to generate: `users` distinct users over `months` calendar months."""

    users: int
    months: tuple[date, ...]   # first day of each month, oldest first
    seed: int


def month_starts(end: str | None, months: int, today: date | None = None) -> tuple[date, ...]:
    """`months` first-of-month dates ending with `end` (YYYY-MM), default last month."""
    if months < 1:
        raise ValueError("--months must be at least 1")
    if end:
        try:
            y, m = (int(p) for p in end.split("-"))
            date(y, m, 1)
        except ValueError as exc:
            raise ValueError(f"--end must be YYYY-MM, not {end!r}") from exc
    else:
        today = today or datetime.now(UTC).date()
        y, m = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    out = []
    for k in range(months - 1, -1, -1):
        idx = y * 12 + (m - 1) - k
        out.append(date(idx // 12, idx % 12 + 1, 1))
    return tuple(out)


def _epoch_us(d: date) -> int:
    return int(datetime(d.year, d.month, d.day).replace(tzinfo=UTC).timestamp()) * US_PER_S


def _next_month(d: date) -> date:
    return date(d.year + (d.month == 12), d.month % 12 + 1, 1)


# --- the user table (small: a few arrays of N) -------------------------------------------

def cohort_sizes(users: int, months: int) -> list[int]:
    """Users whose first month is each month: the first holds the existing base."""
    weights = [1.0] + [(1 - RETENTION + GROWTH) * (1 + GROWTH) ** (k - 1)
                       for k in range(1, months)]
    total = sum(weights)
    sizes = [int(users * w / total) for w in weights]
    sizes[0] += users - sum(sizes)
    return sizes


def user_table(spec: DemoSpec) -> dict[str, np.ndarray]:
    """Per-user attributes, drawn once for all users (deterministic for the seed).

    first/last: indices of the first and last active month; join_day: day of the first
    month the user arrived (0 for users who were already there); segment, plan, pack
    (index into PACKS), data tier (-1: no consent), phone (7 digits after +1555).
    """
    n, n_months = spec.users, len(spec.months)
    if not 1 <= n <= 10_000_000:
        raise ValueError("--users must be between 1 and 10,000,000 (+1555 has 10^7 numbers)")
    rng = np.random.default_rng([spec.seed, 0])
    first = np.repeat(np.arange(n_months, dtype=np.int16), cohort_sizes(n, n_months))
    is_new = (first > 0) | (rng.random(n) < NEW_SHARE_FIRST_MONTH)
    ndays = np.array([(_next_month(m) - m).days for m in spec.months])
    join_day = np.where(is_new, (rng.random(n) * ndays[first]).astype(np.int16), 0)
    last = np.minimum(first + rng.geometric(1 - RETENTION, n) - 1, n_months - 1).astype(np.int16)
    segment = rng.choice(3, n, p=SEGMENT_SHARE).astype(np.int8)
    u = rng.random(n)
    plan = (u[:, None] > np.cumsum(PLAN_SHARE_BY_SEGMENT, axis=1)[segment]).sum(1).astype(np.int8)
    u = rng.random(n)
    pack = (u[:, None] > np.cumsum(PACK_SHARE_BY_SEGMENT, axis=1)[segment]).sum(1).astype(np.int8)
    tier = np.where(rng.random(n) < DATA_CONSENT, rng.integers(0, len(DATA_TIERS), n), -1)
    # A bijection of 0..10^7-1 (multiplier coprime to 10), so phones are unique.
    offset = int(rng.integers(0, 10_000_000))
    phone = (np.arange(n, dtype=np.int64) * 7_368_787 + offset) % 10_000_000
    return {"first": first, "last": last, "join_day": join_day, "segment": segment,
            "plan": plan, "pack": pack, "tier": tier.astype(np.int8), "phone": phone}


# --- small vectorised helpers -------------------------------------------------------

def _starts(counts: np.ndarray) -> np.ndarray:
    out = np.zeros(len(counts), dtype=np.int64)
    np.cumsum(counts[:-1], out=out[1:])
    return out


def _group_cumsum(values: np.ndarray, group: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Cumulative sum within contiguous groups (`group` sorted, `starts` per group)."""
    cs = np.cumsum(values)
    base = np.where(starts > 0, cs[starts - 1], 0)
    return cs - base[group]


def _uniform_int(rng: np.random.Generator, lo: np.ndarray | int, hi: np.ndarray | int,
                 size: int) -> np.ndarray:
    """Integers uniform in [lo, hi] (inclusive, per element)."""
    return rng.integers(lo, np.asarray(hi) + 1, size=size)


def _decimal(umicro: np.ndarray) -> pa.Array:
    """Integer micro-dollars as an exact decimal128(18, 6) Arrow array."""
    v = np.asarray(umicro, dtype=np.int64)
    words = np.empty(2 * len(v), dtype=np.int64)
    words[0::2] = v
    words[1::2] = v >> 63                         # sign extension of the high word
    return pa.Array.from_buffers(pa.decimal128(18, 6), len(v),
                                 [None, pa.py_buffer(words.tobytes())])


def _ts(us: np.ndarray) -> pa.Array:
    return pa.array(np.asarray(us, dtype=np.int64), pa.timestamp("us"))


def _dict(indices: np.ndarray, values: tuple[str, ...] | list[str]) -> pa.Array:
    return pa.DictionaryArray.from_arrays(pa.array(np.asarray(indices, dtype=np.int32)),
                                          pa.array(list(values), pa.string()))


def _ids(prefix: str, user: np.ndarray, ym: str, seq: np.ndarray, suffix: str) -> pa.Array:
    """Stable event ids: `<prefix><user>-<yyyymm>-<seq><suffix>`."""
    return pc.binary_join_element_wise(
        prefix, pa.array(np.asarray(user, dtype=np.int64)).cast(pa.string()), f"-{ym}-",
        pa.array(np.asarray(seq, dtype=np.int64)).cast(pa.string()), suffix, "")


def _when(rng: np.random.Generator, month_start: date, start_day: np.ndarray,
          ndays: int) -> np.ndarray:
    """Instants (µs since epoch) on days >= start_day of the month, with its rhythm."""
    first_weekday = month_start.weekday()
    days = np.arange(ndays)
    weekday = (first_weekday + days) % 7
    w = WEEKDAY_WEIGHT[weekday] * (1 + 0.08 * days / ndays)   # growth within the month
    cdf = np.concatenate([[0.0], np.cumsum(w)])
    lo = cdf[start_day]
    target = lo + rng.random(len(start_day)) * (cdf[-1] - lo)
    day = np.clip(np.searchsorted(cdf, target, side="right") - 1, start_day, ndays - 1)
    weekend = weekday[day] >= 5
    u = rng.random(len(day))
    h_wd = np.searchsorted(np.cumsum(HOUR_WEEKDAY) / HOUR_WEEKDAY.sum(), u, side="right")
    h_we = np.searchsorted(np.cumsum(HOUR_WEEKEND) / HOUR_WEEKEND.sum(), u, side="right")
    hour = np.minimum(np.where(weekend, h_we, h_wd), 23)
    within = rng.integers(0, 3_600 * US_PER_S, len(day))
    return _epoch_us(month_start) + day * US_PER_DAY + hour * 3_600 * US_PER_S + within


# --- one chunk of users, one month --------------------------------------------------------

@dataclass
class _MonthOut:
    frames: dict[str, pa.Table]
    rows: int


def _month_chunk(rng: np.random.Generator, spec: DemoSpec, users: dict[str, np.ndarray],
                 ids: np.ndarray, base: int, phones: pa.Array, m: int,
                 carry: np.ndarray) -> _MonthOut:
    """All rows of month `m` for the users `ids` (indices into the chunk's arrays).

    `base` is the chunk's first global user index (for event ids); `carry` (paid
    tokens left, per chunk user) is read and updated in place.
    """
    month = spec.months[m]
    ym = f"{month.year:04d}{month.month:02d}"
    ndays = (_next_month(month) - month).days
    t0, t_end = _epoch_us(month), _epoch_us(_next_month(month))
    seg = users["segment"][ids].astype(np.int64)
    start_day = np.where(users["first"][ids] == m, users["join_day"][ids], 0).astype(np.int64)
    frac = (ndays - start_day) / ndays
    premium = users["plan"][ids] > 0
    k = len(ids)

    # Tokens of the requests this user-month: the segment's range, pro rata for arrivals.
    lo = np.array([r[0] for r in SEGMENT_TOKENS])[seg]
    hi = np.array([r[1] for r in SEGMENT_TOKENS])[seg] - 4   # the last request may add <= 4
    target = np.maximum(np.floor(_uniform_int(rng, lo, hi, k) * frac).astype(np.int64), 1)

    # Draw more actions than needed, keep them until the target is reached.
    n0 = np.ceil(target / 1.5).astype(np.int64) + 4
    g0 = np.repeat(np.arange(k), n0)
    act0 = rng.choice(len(ACTIONS), size=len(g0), p=ACTION_SHARE)
    tok0 = ACTION_TOKENS[act0]
    cs0 = _group_cumsum(tok0, g0, _starts(n0))
    keep = (cs0 - tok0) < target[g0]
    g1, act1 = g0[keep], act0[keep]
    got = np.bincount(g1, weights=ACTION_TOKENS[act1], minlength=k).astype(np.int64)
    deficit = np.maximum(target - got, 0)          # rare: fill with simple messages
    n_err = rng.binomial(np.bincount(g1, minlength=k), ERROR_RATE)
    g = np.concatenate([g1, np.repeat(np.arange(k), deficit), np.repeat(np.arange(k), n_err)])
    act = np.concatenate([act1, np.zeros(deficit.sum(), np.int64),
                          rng.choice(len(ACTIONS), size=int(n_err.sum()), p=ACTION_SHARE)])
    err = np.concatenate([np.zeros(len(g1) + deficit.sum(), bool), np.ones(n_err.sum(), bool)])

    # When: the month's rhythm from the arrival day, then >= 3 minutes between requests.
    ts = _when(rng, month, start_day[g], ndays)
    order = np.lexsort((ts, g))
    g, act, err, ts = g[order], act[order], err[order], ts[order]
    counts = np.bincount(g, minlength=k)
    starts = _starts(counts)
    rank = np.arange(len(g)) - starts[g]
    big = np.int64(1) << 42
    a = (ts - t0) - rank * MIN_GAP_US + g * big
    ts = np.maximum.accumulate(a) - g * big + rank * MIN_GAP_US + t0
    cap = t_end - 120 * US_PER_S - (counts[g] - 1 - rank) * MIN_GAP_US
    ts = np.minimum(ts, cap)
    n = len(g)

    # Cost of each request from usage x unit prices, in pico-dollars per category.
    usage = np.empty((6, n), dtype=np.int64)
    for j, name in enumerate(ACTIONS):
        sel = np.flatnonzero(act == j)
        for q, (ulo, uhi) in enumerate(USAGE[name]):
            usage[q, sel] = _uniform_int(rng, ulo, uhi, len(sel))
    msgs, tin, tout, calls, dbops, ms = usage
    msgs = msgs + ((act == 0) & (rng.random(n) < 0.1))        # a split reply now and then
    call_price = _uniform_int(rng, *EXT_CALL_UMICRO, n) * 1_000_000
    parts = np.stack([tin * PRICE_IN_TOKEN + tout * PRICE_OUT_TOKEN,   # ai
                      msgs * PRICE_MESSAGE,                            # messaging
                      dbops * PRICE_DB_OP,                             # database
                      ms * PRICE_LAMBDA_MS,                            # lambda
                      np.full(n, 2 * PRICE_GATEWAY),                   # api_gateway
                      calls * call_price])                             # external_api
    cost_umicro = (parts.sum(0) + 500_000) // 1_000_000            # round half up to µ$
    dominant = parts.argmax(0)
    # When the actual (or, for a failed request, the error line) was written.
    done_ts = np.where(err, ts + _uniform_int(rng, 500_000, 10_000_000, n),
                       ts + ms * 1_000 + _uniform_int(rng, 200_000, 1_500_000, n))

    # Tokens: premium months spend none; failed requests spend none.
    spend = np.where(err | premium[g], 0, ACTION_TOKENS[act])
    cs = _group_cumsum(spend, g, starts)
    spent = np.bincount(g, weights=spend, minlength=k).astype(np.int64)
    pack = users["pack"][ids].astype(np.int64)
    pack_tokens = np.array([p[1] for p in PACKS])[pack]
    available = FREE_MONTHLY + carry[ids]
    n_buy = np.ceil(np.maximum(spent - available, 0) / pack_tokens).astype(np.int64)
    bg = np.repeat(np.arange(k), n_buy)
    j = np.arange(len(bg)) - _starts(n_buy)[bg]
    threshold = available[bg] + j * pack_tokens[bg]
    # The request that would overdraw: the first whose running spend passes the threshold.
    key = g * big + cs
    at = np.searchsorted(key, bg * big + threshold, side="right")
    voluntary = ~premium & (rng.random(k) < np.array(VOLUNTARY_PURCHASE)[seg])
    vg = np.flatnonzero(voluntary)
    vat = starts[vg] + (rng.random(len(vg)) * counts[vg]).astype(np.int64)
    buy_g = np.concatenate([bg, vg])
    buy_at = np.concatenate([at, vat])
    buy_ts = ts[buy_at] - _uniform_int(rng, 5 * US_PER_S, 100 * US_PER_S, len(buy_at))
    buy_pack = pack[buy_g]
    bought = np.bincount(buy_g, weights=np.array([p[1] for p in PACKS])[buy_pack],
                         minlength=k).astype(np.int64)
    balance = available + bought - spent
    free_left = np.maximum(FREE_MONTHLY - spent, 0)
    carry[ids] = balance - free_left


    # --- cost lines: estimate, then actual or error -----------------------------------
    ok = ~err
    uid = ids[g]                       # chunk-local user index per request
    gid = uid + base                   # global user index, for event ids
    n_ok, n_x = int(ok.sum()), int(err.sum())
    names = (*ACTIONS, "error_handling")
    cost = pa.table({
        "event_id": pa.concat_arrays([_ids("dc", gid, ym, rank, "e"),
                                      _ids("dc", gid[ok], ym, rank[ok], "a"),
                                      _ids("dc", gid[err], ym, rank[err], "x")]),
        "user_id": phones.take(pa.array(np.concatenate([uid, uid[ok], uid[err]]))),
        "ts": _ts(np.concatenate([ts, done_ts[ok], done_ts[err]])),
        "action": _dict(np.concatenate([act, act[ok], np.full(n_x, len(ACTIONS))]), names),
        "event_type": _dict(np.concatenate([act, act[ok] + 6, np.full(n_x, 12)]),
                            [*ACTIONS, *(f"{a}_completed" for a in ACTIONS), "error_handling"]),
        "cost_usd": _decimal(np.concatenate([ESTIMATE_UMICRO[act], cost_umicro[ok],
                                             np.full(n_x, ERROR_UMICRO)])),
        # An estimate does not count when its actual replaces it; a failed request's
        # estimate has no actual, so it counts (the contract's pairing rule).
        "counted": pa.array(np.concatenate([err, np.ones(n_ok + n_x, bool)])),
        "category": _dict(np.concatenate([ESTIMATE_CATEGORY[act], dominant[ok],
                                          np.full(n_x, 6)]), CATEGORIES),
        "details": pa.concat_arrays([
            pa.nulls(n, pa.string()),
            _details(tin[ok] + tout[ok], calls[ok], msgs[ok]),
            _dict(act[err], [f'{{"failed_action": "{a}"}}' for a in ACTIONS]).cast(pa.string())]),
    })

    # --- revenue --------------------------------------------------------------------
    rev: list[dict[str, object]] = []
    pack_usd = np.array([p[0] for p in PACKS])
    pack_tok = np.array([p[1] for p in PACKS])
    # Token packs, at the moment they were needed (or bought on a whim).
    rev.append({"id": ("t", buy_g, _rank_in(buy_g, k)), "g": buy_g, "ts": buy_ts,
                "stream": "tokens", "amount": pack_usd[buy_pack], "tokens": pack_tok[buy_pack],
                "partner": None,
                "details": _dict(buy_pack, [
                    f'{{"tokens_purchased": {t}, "payment_method": "stripe", '
                    f'"bonus_applied": {"true" if a >= 5_000_000 else "false"}}}'
                    for a, t in PACKS])})
    # Plans: paid just before the month's first request; a few refunded days later.
    pg = np.flatnonzero(premium)
    plan = users["plan"][ids][pg].astype(np.int64)
    plan_usd = np.array(PLAN_PRICE_UMICRO)[plan]
    pay_ts = np.maximum(ts[starts[pg]] - _uniform_int(rng, 60 * US_PER_S, 3_600 * US_PER_S,
                                                     len(pg)), t0)
    rev.append({"id": ("p", pg, 0), "g": pg, "ts": pay_ts, "stream": "premium",
                "amount": plan_usd, "tokens": None, "partner": _dict(plan, PLANS),
                "details": None})
    rf = rng.random(len(pg)) < REFUND_RATE
    rev.append({"id": ("pr", pg[rf], 0), "g": pg[rf],
                "ts": np.minimum(pay_ts[rf] + _uniform_int(rng, US_PER_DAY, 5 * US_PER_DAY,
                                                           int(rf.sum())), t_end - US_PER_S),
                "stream": "premium", "amount": -plan_usd[rf], "tokens": None,
                "partner": _dict(plan[rf], PLANS), "details": _const('{"refund": true}', rf)})

    # Affiliate funnel on served answers: shown -> click -> conversion -> commission.
    shown_rate = np.where(premium[g], SHOWN_RATE / 2, SHOWN_RATE)
    sh = np.flatnonzero(ok & (rng.random(n) < shown_rate))
    partner = 2 * ACTION_PARTNER_CATEGORY[act[sh]] + (rng.random(len(sh)) < 0.5)
    s_ts = done_ts[sh] + US_PER_S
    clicked = rng.random(len(sh)) < CLICK_RATE
    c_ts = np.minimum(s_ts + _uniform_int(rng, 5 * US_PER_S, 300 * US_PER_S, len(sh)),
                      t_end - 2 * US_PER_S)
    conv = clicked & (rng.random(len(sh)) < CONVERSION_RATE)
    v_ts = np.minimum(c_ts + _uniform_int(rng, 600 * US_PER_S, 2 * US_PER_DAY, len(sh)),
                      t_end - US_PER_S)
    partner_names = [p[0] for p in PARTNERS]
    aff = pa.table({
        "event_id": pa.concat_arrays([_ids("da", gid[sh], ym, rank[sh], "s"),
                                      _ids("da", gid[sh][clicked], ym, rank[sh][clicked], "c"),
                                      _ids("da", gid[sh][conv], ym, rank[sh][conv], "v")]),
        "user_id": phones.take(pa.array(np.concatenate([uid[sh], uid[sh][clicked],
                                                        uid[sh][conv]]))),
        "ts": _ts(np.concatenate([s_ts, c_ts[clicked], v_ts[conv]])),
        "partner": _dict(np.concatenate([partner, partner[clicked], partner[conv]]),
                         partner_names),
        "kind": _dict(np.repeat([0, 1, 2], [len(sh), int(clicked.sum()), int(conv.sum())]),
                      ("shown", "click", "conversion")),
    })
    cp = partner[conv]
    order_cents = _uniform_int(rng, np.array([p[2][0] for p in PARTNERS])[cp],
                               np.array([p[2][1] for p in PARTNERS])[cp], len(cp))
    pct_bp = _uniform_int(rng, np.array([p[3][0] for p in PARTNERS])[cp],
                          np.array([p[3][1] for p in PARTNERS])[cp], len(cp))
    commission = order_cents * pct_bp            # cents x basis points = micro-dollars
    cg, crank = g[sh][conv], rank[sh][conv]
    rev.append({"id": ("a", cg, crank), "g": cg, "ts": v_ts[conv], "stream": "affiliate",
                "amount": commission, "tokens": None, "partner": _dict(cp, partner_names),
                "details": _order_details(order_cents, pct_bp)})
    cb = rng.random(len(cp)) < REFUND_RATE
    rev.append({"id": ("ar", cg[cb], crank[cb]), "g": cg[cb],
                "ts": np.minimum(v_ts[conv][cb] + _uniform_int(rng, US_PER_DAY, 3 * US_PER_DAY,
                                                               int(cb.sum())), t_end - 1),
                "stream": "affiliate", "amount": -commission[cb], "tokens": None,
                "partner": _dict(cp[cb], partner_names),
                "details": _const('{"chargeback": true}', cb)})
    # Data revenue: consenting users, once a month, on its last evening.
    tier = users["tier"][ids]
    dg = np.flatnonzero(tier >= 0)
    rev.append({"id": ("d", dg, 0), "g": dg,
                "ts": t_end - _uniform_int(rng, 60 * US_PER_S, 3_600 * US_PER_S, len(dg)),
                "stream": "data", "amount": np.array([t[1] for t in DATA_TIERS])[tier[dg]],
                "tokens": None, "partner": _dict(tier[dg], [t[0] for t in DATA_TIERS]),
                "details": None})
    revenue = _revenue_table(rev, ids, base, ym, phones)

    # One balance snapshot per user-month, written with the month's last request.
    last_at = starts + counts - 1
    balances = pa.table({
        "user_id": phones.take(pa.array(ids)),
        "as_of": _ts(done_ts[last_at]),
        "balance": pa.array(balance),
    })
    frames = {"cost_events": cost, "revenue_events": revenue, "token_balances": balances,
              "affiliate_events": aff}
    return _MonthOut(frames=frames, rows=sum(t.num_rows for t in frames.values()))


def _rank_in(group: np.ndarray, k: int) -> np.ndarray:
    """0, 1, 2... within each group value, in array order (groups need not be sorted)."""
    order = np.argsort(group, kind="stable")
    counts = np.bincount(group, minlength=k)
    ranks = np.empty(len(group), dtype=np.int64)
    ranks[order] = np.arange(len(group)) - _starts(counts)[group[order]]
    return ranks


def _const(text: str, mask: np.ndarray) -> pa.Array:
    return pa.array([text] * int(mask.sum()), pa.string())


def _details(ai_tokens: np.ndarray, api_calls: np.ndarray, messages: np.ndarray) -> pa.Array:
    """The actual line's usage as JSON, in the seed's words (ai_tokens, api_calls)."""
    s = [pa.array(np.asarray(v, dtype=np.int64)).cast(pa.string())
         for v in (ai_tokens, api_calls, messages)]
    return pc.binary_join_element_wise('{"ai_tokens": ', s[0], ', "api_calls": ', s[1],
                                       ', "messages": ', s[2], "}", "")


def _order_details(order_cents: np.ndarray, pct_bp: np.ndarray) -> pa.Array:
    dollars = pa.array(order_cents // 100).cast(pa.string())
    cents = pc.utf8_lpad(pa.array(order_cents % 100).cast(pa.string()), 2, "0")
    pct = pa.array(pct_bp).cast(pa.string())
    return pc.binary_join_element_wise('{"order_usd": "', dollars, ".", cents,
                                       '", "commission_bp": ', pct, "}", "")


def _revenue_table(parts: list[dict], ids: np.ndarray, base: int, ym: str,
                   phones: pa.Array) -> pa.Table:
    """Concatenate the revenue pieces into one contract-named table."""
    cols: dict[str, list[pa.Array]] = {c: [] for c in (
        "event_id", "user_id", "ts", "stream", "amount_usd", "tokens", "partner", "details")}
    for p in parts:
        g = np.asarray(p["g"], dtype=np.int64)
        rows = len(g)
        suffix, _, seq = p["id"]
        cols["event_id"].append(_ids("dr", ids[g] + base, ym,
                                     np.broadcast_to(np.asarray(seq), (rows,)), suffix))
        cols["user_id"].append(phones.take(pa.array(ids[g])))
        cols["ts"].append(_ts(p["ts"]))
        cols["stream"].append(pa.array([p["stream"]] * rows, pa.string()))
        cols["amount_usd"].append(_decimal(p["amount"]))
        cols["tokens"].append(pa.nulls(rows, pa.int64()) if p["tokens"] is None
                              else pa.array(np.asarray(p["tokens"], dtype=np.int64)))
        for c in ("partner", "details"):
            v = p[c]
            cols[c].append(pa.nulls(rows, pa.string()) if v is None
                           else (v.cast(pa.string()) if pa.types.is_dictionary(v.type) else v))
    return pa.table({c: pa.concat_arrays(v) for c, v in cols.items()})


# --- the whole business -----------------------------------------------------------

def chunks(spec: DemoSpec, advance: Callable[[int], None] | None = None) -> Iterator[Chunk]:
    """The demo business as pipeline chunks: one per chunk of users and month.

    Each chunk of users draws from its own stream (seed, chunk number), so the data do
    not depend on how the chunks are consumed; the user table is drawn once for all.
    """
    users = user_table(spec)
    phone_text = pc.binary_join_element_wise(
        "+1555", pc.utf8_lpad(pa.array(users["phone"]).cast(pa.string()), 7, "0"), "")
    for c, lo in enumerate(range(0, spec.users, CHUNK_USERS)):
        hi = min(lo + CHUNK_USERS, spec.users)
        rng = np.random.default_rng([spec.seed, 1, c])
        local = {k: v[lo:hi] for k, v in users.items()}
        phones = phone_text.slice(lo, hi - lo)
        carry = np.zeros(hi - lo, dtype=np.int64)
        for m in range(len(spec.months)):
            ids = np.flatnonzero((local["first"] <= m) & (local["last"] >= m))
            if len(ids):
                out = _month_chunk(rng, spec, local, ids, lo, phones, m, carry)
                yield Chunk(frames=out.frames, rows_read=out.rows)
        if advance:
            advance(hi - lo)


def generate(db: Path, spec: DemoSpec, progress: bool = True, direct: bool = False
             ) -> LoadResult:
    """Generate the business and load it into a fresh `db` through the one loading path.

    `direct` takes the separate fast path below instead (see `_load_direct`).
    """
    loader = _load_direct if direct else (
        lambda db, chunks: load(db, SOURCE, chunks, fresh=True))
    if not progress:
        return loader(db, chunks(spec))
    with terminal_progress("demo", total=spec.users, unit="users") as advance:
        return loader(db, chunks(spec, advance))


# --- a separate fast path, opt-in (--direct) ---------------------------------------------
# The generic path stages every value as text and re-validates it in SQL, which costs
# ~50 s per 10,000 users (1M users: well over an hour). The generator's rows are valid by
# construction, so this path inserts its typed Arrow columns straight into a fresh version
# (same publish mechanism, same tables, same load_log row); a test shows both paths
# write identical tables. Proposed to the lead; the default stays the pipeline.

def _load_direct(db: Path, parts: Iterator[Chunk]) -> LoadResult:
    started = datetime.now(UTC).replace(tzinfo=None)
    t0 = time.perf_counter()
    result = LoadResult(load_id=1, source=SOURCE)
    with new_version(Path(db), fresh=True) as con:
        for part in parts:
            for table, frame in part.frames.items():
                cols = ", ".join(frame.column_names)
                con.register("_demo_chunk", frame)
                con.execute(DIRECT_INSERT[table].replace("{cols}", cols))
                con.unregister("_demo_chunk")
                result.rows_written += frame.num_rows
            result.rows_read += part.rows_read or 0
        dup = con.execute(DUPLICATE_IDS).fetchone()[0]
        if dup:
            raise LoadError(f"demo generated {dup} duplicate event ids")
        result.seconds = time.perf_counter() - t0
        con.execute("INSERT INTO load_log VALUES (?, ?, ?, ?, ?, ?, 0, 'ok', NULL, NULL)",
                    [result.load_id, SOURCE, started, datetime.now(UTC).replace(tzinfo=None),
                     result.rows_read, result.rows_written])
    return result


DIRECT_INSERT = {table: f"INSERT INTO {table} ({{cols}}, source, load_id) "
                        f"SELECT {{cols}}, '{SOURCE}', 1 FROM _demo_chunk"
                 for table in ("cost_events", "revenue_events", "token_balances",
                               "affiliate_events")}
DUPLICATE_IDS = (Path(__file__).with_name("sql") / "demo_duplicate_ids.sql").read_text()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", type=Path, required=True, help="database file to (re)create")
    parser.add_argument("--users", type=int, default=DEFAULT_USERS,
                        help=f"distinct users over the months (default {DEFAULT_USERS:,})")
    parser.add_argument("--months", type=int, default=DEFAULT_MONTHS,
                        help=f"calendar months (default {DEFAULT_MONTHS})")
    parser.add_argument("--end", help="last month, YYYY-MM (default: last month)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED,
                        help=f"random seed (default {DEFAULT_SEED})")
    parser.add_argument("--direct", action="store_true",
                        help="fast path: insert typed rows directly (for 1M-user benchmarks)")


def main(args: argparse.Namespace) -> int:
    spec = DemoSpec(users=args.users, months=month_starts(args.end, args.months),
                    seed=args.seed)
    result = generate(args.db, spec, progress=True, direct=args.direct)
    first, last = spec.months[0], spec.months[-1]
    size_mb = Path(args.db).stat().st_size / 1e6
    print(f"{result.summary()}; {spec.users:,} users, {first:%Y-%m}..{last:%Y-%m}, "
          f"seed {spec.seed}, {size_mb:,.1f} MB at {args.db}")
    return 0 if result.rows_rejected == 0 else 1


# A command only: a demo replaces the database, so the Data page does not offer it.
EXAMPLE = (  # for `--help`: pasteable as it stands
    "  .venv/bin/python -m loaders demo --db data/profit.duckdb --users 5000 --months 3")
LOADER = Source(command=COMMAND, help=HELP, add_arguments=add_arguments, main=main,
                example=EXAMPLE)
