"""The What-if page's data: the period's history loaded once, and each replay cached.

Keyed by the database and its data version, so a new load is seen on the next rerun;
`cache_resource` because a `History` and a replay's table are large and read-only, and
copying them out of a pickle on every rerun would cost more than the replay itself.
"""

from __future__ import annotations

import tomllib

import streamlit as st

from core import settings
from dashboard import data
from dashboard.what_if_state import policy_toml
from enforcement import whatif
from enforcement.months import month_label
from enforcement.policy import Policy
from enforcement.replay import History, ReplayResult
from queries import kpis as K
from queries.history import read_history


@st.cache_resource(max_entries=4, show_spinner="Loading history…")
def _history(db: str, version: tuple[int, int], first: str, last: str, tz: str) -> History:
    return read_history(data.connection(), first, last, tz)


def load_history(first: str, last: str, tz: str) -> History:
    """The period's history, cached with the data version (a new load is seen at once)."""
    return _history(str(settings.db_path()), data.current_version(), first, last, tz)


@st.cache_resource(max_entries=32, show_spinner=False)
def _replay(db: str, version: tuple[int, int], first: str, last: str, toml: str,
            recorded: bool) -> ReplayResult:
    policy = Policy.from_dict(tomllib.loads(toml))
    history = load_history(first, last, policy.timezone)
    if recorded:
        return whatif.recorded(history, policy, first, last)
    return whatif.replay(history, policy, first, last)


def replay(policy: Policy, first: str, last: str, *, recorded: bool = False) -> ReplayResult:
    """A policy replayed (or history as recorded), cached per policy, period and data."""
    return _replay(str(settings.db_path()), data.current_version(), first, last,
                   policy_toml(policy), recorded)


def available_months(tz: str) -> list[str]:
    """Every month (in `tz`) from the first to the last loaded event."""
    span = data.cached(K.data_span)(tz=tz)
    if span is None:
        return []
    first, last = span
    lo, hi = first.year * 12 + first.month - 1, last.year * 12 + last.month - 1
    return [month_label(m) for m in range(lo, hi + 1)]
