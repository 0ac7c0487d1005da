"""The fold's order of events, (user, ts, event_id), found in linear time.

Why not a sort: at 1,000,000 users a month is 45 M requests, and a general sort of them
(DuckDB's ORDER BY, or numpy's lexsort) was most of the replay's time. Users are small
integer codes, so a counting sort groups them in two passes, and each user's few dozen
events are then sorted by instant on their own. Ties (one user, one instant) are ordered
by event id afterwards, only where they occur.
"""

from __future__ import annotations

from collections.abc import Callable

import numba
import numpy as np
import pandas as pd

SMALL = 32  # a user's events up to this many are insertion-sorted, more are merge-sorted


PARTS = 4  # rows are counted and placed in up to this many slices at once (one per core)


@numba.njit(cache=True, parallel=True)
def _kind_user_time_order(kind, user, ts, n_kinds, n_users, threads):  # pragma: no cover
    # A counting sort on (kind, user), then each (kind, user) run sorted by instant. The
    # rows are cut into slices counted and placed in parallel; slice p's rows go after
    # slice p-1's in every run, so the sort stays stable.
    n = len(user)
    groups = n_kinds * n_users
    parts = max(1, min(PARTS, threads, n // 1_000_000))
    size = (n + parts - 1) // parts
    counts = np.zeros((parts, groups), np.int64)
    bad = np.zeros(parts, np.bool_)
    for p in numba.prange(parts):
        for i in range(p * size, min(n, (p + 1) * size)):
            if kind[i] < n_kinds:
                if user[i] < 0 or user[i] >= n_users:
                    bad[p] = True
                    break
                counts[p, kind[i] * n_users + user[i]] += 1
    if bad.any():
        return np.empty(0, np.int64), np.full(n_kinds + 1, -1, np.int64)
    start = np.zeros(groups + 1, np.int64)
    total = 0
    for g in range(groups):  # counts become each slice's first place in each run
        start[g] = total
        for p in range(parts):
            c = counts[p, g]
            counts[p, g] = total
            total += c
    start[groups] = total
    order = np.empty(total, np.int64)
    for p in numba.prange(parts):
        for i in range(p * size, min(n, (p + 1) * size)):
            if kind[i] < n_kinds:
                g = kind[i] * n_users + user[i]
                order[counts[p, g]] = i
                counts[p, g] += 1
    for g in numba.prange(groups):  # each run on its own: the machine's cores share them
        a, b = start[g], start[g + 1]
        if b - a > SMALL:
            run = order[a:b].copy()
            order[a:b] = run[np.argsort(ts[run], kind="mergesort")]
            continue
        for x in range(a + 1, b):
            v = order[x]
            t = ts[v]
            y = x - 1
            while y >= a and ts[order[y]] > t:
                order[y + 1] = order[y]
                y -= 1
            order[y + 1] = v
    bounds = np.empty(n_kinds + 1, np.int64)
    for k in range(n_kinds + 1):
        bounds[k] = start[k * n_users]
    return order, bounds


def kind_user_time_order(kind: np.ndarray, user: np.ndarray, ts: np.ndarray, n_kinds: int,
                         n_users: int) -> list[np.ndarray]:
    """For each kind 0..n_kinds-1, the positions of its rows in (user, ts) order, stable.

    Users are codes 0..n_users-1; rows of a kind >= n_kinds are left out (the read's
    text rows). One pass for all kinds: at a million users each extra pass over the
    45 M rows (picking a kind's rows, copying their columns) cost as much as the sort."""
    order, bounds = _kind_user_time_order(kind, user, ts, n_kinds, n_users,
                                          numba.get_num_threads())
    if bounds[0] < 0:
        raise ValueError(f"user codes must lie in 0..{n_users - 1}")
    return [order[bounds[k]:bounds[k + 1]] for k in range(n_kinds)]


def user_time_order(user: np.ndarray, ts: np.ndarray, n_users: int) -> np.ndarray:
    """The permutation that sorts rows by (user, ts), stable; users are codes 0..n_users-1."""
    (order,) = kind_user_time_order(np.zeros(len(user), np.int8), user, ts, 1, n_users)
    return order


@numba.njit(cache=True, parallel=True)
def _take_into(order, a, out):  # pragma: no cover - compiled; tested through take
    for i in numba.prange(len(order)):
        out[i] = a[order[i]]
    return out


def take(order: np.ndarray, a: np.ndarray, dtype: type | np.dtype = np.int64) -> np.ndarray:
    """One integer column at `order`'s positions, as `dtype`, in one parallel pass.

    The requests' columns go into fold order one at a time, each unsorted column let go
    as soon as its sorted copy exists: at 45 M rows, gathering four at once held 1.4 GB
    beside the unsorted columns. A compiled pass is three times numpy's `a[order]` there."""
    return _take_into(order, a, np.empty(len(order), dtype))


def tie_rows(user: np.ndarray, ts: np.ndarray) -> np.ndarray:
    """Positions, in rows sorted by (user, ts), of every row that shares both with another."""
    same = (user[1:] == user[:-1]) & (ts[1:] == ts[:-1])
    tied = np.zeros(len(ts), dtype=bool)
    tied[1:] |= same
    tied[:-1] |= same
    return np.flatnonzero(tied)


def settle_ties(order: np.ndarray, user: np.ndarray, ts: np.ndarray,
                event_ids: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """`order` (rows by user and ts) with each run of equal (user, ts) put in event-id order.

    `user` and `ts` are the unsorted columns; `event_ids(rows)` gives the ids of those
    unsorted rows (only tied rows are asked for: at a million users, turning every id into
    a Python string would cost more than the sort). Ids compare as Python strings do, by
    code point, which is DuckDB's and Spark's byte order for UTF-8."""
    u, t = user[order], ts[order]
    rows = tie_rows(u, t)
    if not len(rows):
        return order
    starts = np.ones(len(rows), dtype=bool)  # a run starts where (user, ts) changes
    starts[1:] = (u[rows[1:]] != u[rows[:-1]]) | (t[rows[1:]] != t[rows[:-1]])
    keys = pd.DataFrame({"run": np.cumsum(starts),
                         "event_id": np.asarray(event_ids(order[rows]), dtype=object)})
    within = keys.sort_values(["run", "event_id"], kind="stable").index.to_numpy()
    out = order.copy()
    out[rows] = order[rows[within]]
    return out
