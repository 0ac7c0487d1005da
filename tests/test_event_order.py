"""`enforcement.event_order`: the linear-time (kind, user, ts) order equals a plain sort.

Hypothesis draws rows with few users and few instants (so ties and long runs are common),
and runs longer than `SMALL` (the merge-sorted branch) as well as short ones (insertion).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from enforcement.event_order import (
    SMALL,
    kind_user_time_order,
    settle_ties,
    tie_rows,
    user_time_order,
)

rows = st.lists(st.tuples(st.integers(0, 4), st.integers(0, 5), st.integers(0, 40)),
                max_size=400)


def _columns(drawn: list[tuple[int, int, int]]) -> tuple[np.ndarray, ...]:
    kind, user, ts = (np.array([r[i] for r in drawn], dtype=np.int64) for i in range(3))
    return kind.astype(np.int8), user.astype(np.int32), ts


@settings(max_examples=300, deadline=None)
@given(rows)
def test_each_kind_comes_in_user_then_time_order_and_stable(drawn) -> None:
    kind, user, ts = _columns(drawn)
    orders = kind_user_time_order(kind, user, ts, 3, 6)
    for k, order in enumerate(orders):
        mine = np.flatnonzero(kind == k)
        want = mine[np.lexsort((mine, ts[mine], user[mine]))]  # stable: by position last
        assert order.tolist() == want.tolist()
    assert sum(len(o) for o in orders) == int((kind < 3).sum())  # kinds 3, 4 left out


def test_a_user_with_more_than_small_events_is_sorted_too() -> None:
    rng = np.random.default_rng(5)
    n = 5 * SMALL
    user = np.r_[np.zeros(n, np.int64), np.ones(3, np.int64)]
    ts = rng.integers(0, 10**12, n + 3)
    order = user_time_order(user, ts, 2)
    assert np.all(np.diff(ts[order[:n]]) >= 0) and set(order[n:]) == {n, n + 1, n + 2}


def test_a_code_outside_the_users_is_refused() -> None:
    with pytest.raises(ValueError, match="0..1"):
        user_time_order(np.array([0, 2]), np.array([1, 1]), 2)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 6),
                          st.text(alphabet="ab\u00e9\U0001f600", max_size=3)),
                max_size=120, unique_by=lambda r: r[2]))
def test_ties_are_put_in_event_id_order_and_nothing_else_moves(drawn) -> None:
    user = np.array([r[0] for r in drawn], dtype=np.int64)
    ts = np.array([r[1] for r in drawn], dtype=np.int64)
    ids = np.array([r[2] for r in drawn], dtype=object)
    order = settle_ties(user_time_order(user, ts, 4), user, ts, lambda rows: ids[rows])
    got = [(user[i], ts[i], ids[i]) for i in order]
    # Python orders str by code point, DuckDB VARCHAR by UTF-8 bytes: the same order.
    assert got == sorted(got, key=lambda r: (r[0], r[1], r[2].encode()))
    assert len(tie_rows(user[order], ts[order])) == sum(
        1 for i in range(len(got)) if any(j != i and got[j][:2] == got[i][:2]
                                          for j in range(len(got))))
