"""The landing page's answer: the verdict and the action-needed list, on a month worked out
by hand, and on the demo business through the page."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from core import audit
from core.privacy import mask_phone
from loaders.publish import connect_read_only
from queries import actions, verdict
from queries import kpis as K

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "dashboard" / "app.py")
POLICY = ROOT / "enforcement" / "policies" / "seed-default.toml"
U1, U2, U3, U4, U5 = (f"+1555200000{i}" for i in range(1, 6))


def cost(user: str, amount: str, ts: str = "2026-03-05T09:00:00") -> dict:
    return {"user_id": user, "ts": ts, "action": "simple_message", "cost_usd": amount}


@pytest.fixture
def march(make_db: Callable[..., Path]):
    costs = [cost(U1, "2.01"),            # over the 2.00 cutoff, no payment
             cost(U2, "2.00"),            # exactly at the cutoff: not over it (strict)
             cost(U3, "0.50"), cost(U4, "1.00")]
    costs += [cost(U5, "0.01", f"2026-03-06T09:{m:02d}:00") for m in range(60)]  # 60 requests
    db = make_db(costs=costs, revenue=[
        {"user_id": U3, "ts": "2026-03-05T10:00:00", "stream": "tokens", "amount_usd": "5.00"},
        {"user_id": U5, "ts": "2026-03-05T10:00:00", "stream": "tokens", "amount_usd": "5.00"}])
    con = connect_read_only(db)
    yield con
    con.close()


def test_verdict_counts_the_users_below_target_this_month(march) -> None:
    v = verdict.verdict(march, "2026-03-10", "UTC", POLICY, first_month="2026-03")
    # at target (profit >= 3.00): U3 (4.50) and U5 (4.40); below: U1, U2, U4
    assert (v.users, v.below, v.at_target_pct) == (5, 3, 40.0)
    assert v.sentence() == "3 of 5 users (60.0%) are below $3.00 this month — target 95% ✗"
    # profit: 10.00 revenue - 6.11 cost = 3.89; run on over 31 days from 10 = 12.059
    assert v.profit_mtd == Decimal("3.89")
    assert v.projected_profit == Decimal("12.059")
    assert v.last_month_at_target_pct is None
    assert v.pace_sentence() == "No data for the same day last month."


def test_same_day_last_month_is_clamped_to_its_length() -> None:
    assert verdict.same_day_last_month(datetime(2026, 3, 31).date()).isoformat() == "2026-02-28"
    assert verdict.same_day_last_month(datetime(2026, 1, 15).date()).isoformat() == "2025-12-15"


def test_action_list_names_each_kind_of_trouble(march) -> None:
    fresh = datetime.utcnow()  # noqa: DTZ003 - stored instants are naive UTC
    df = actions.action_needed(march, "2026-03-10", "UTC", POLICY, now=fresh)
    got = list(zip(df["kind"], df["user_id"], strict=True))
    assert got == [(actions.OVER_CUTOFF, U1),
                   (actions.BELOW_TARGET, U2), (actions.BELOW_TARGET, U4),
                   (actions.HIGH_RATE, U5)]  # 60 requests > max(50, 10 x median of 1)
    assert df.loc[0, "cost_usd"] == Decimal("2.01")


def test_a_load_older_than_stale_hours_is_listed(march) -> None:
    later = datetime.utcnow() + timedelta(hours=7)  # noqa: DTZ003
    df = actions.action_needed(march, "2026-03-10", "UTC", POLICY, now=later)
    stale = df[df["kind"] == actions.LOAD_STALE]
    assert stale["detail"].str.startswith("test: last loaded").tolist() == [True]


@pytest.fixture
def daily(demo_db: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> AppTest:
    monkeypatch.setenv("PROFIT_DB", str(demo_db))
    monkeypatch.setenv("PROFIT_TIMEZONE", "UTC")
    monkeypatch.setenv("PROFIT_POLICY", str(POLICY))
    monkeypatch.setenv("PROFIT_SECRETS", str(tmp_path / "none.toml"))
    monkeypatch.setenv("PROFIT_AUDIT_LOG", str(tmp_path / "audit.log"))
    return AppTest.from_file(APP, default_timeout=120)


def test_daily_verdict_and_action_list_equal_the_query_layer(daily: AppTest, demo_db: Path
                                                             ) -> None:
    daily.query_params["day"] = "2026-03-15"
    daily.run()
    assert not daily.exception
    con = connect_read_only(demo_db)
    try:
        v = verdict.verdict(con, "2026-03-15", "UTC", POLICY, first_month="2026-01")
        unpaid = K.unpaid_over_cutoff(con, "2026-03-15", "UTC", POLICY)
    finally:
        con.close()
    assert unpaid.shape[0] > 0  # the demo has users over the cutoff without payment
    box = daily.get("flex_container")  # the verdict container's markdown comes first
    assert box and f":red[{v.sentence()}]" in [m.value.removeprefix("#### ")
                                                for m in daily.markdown]
    metrics = {m.label: m.value for m in daily.metric}
    assert metrics["Profit this month"] == f"${v.profit_mtd:,.2f}"
    table = daily.dataframe[0].value
    listed = table.loc[table["what"] == actions.OVER_CUTOFF, "user"].tolist()
    assert listed == [mask_phone(u) for u in unpaid["user_id"]]
    links = table.loc[table["what"] == actions.OVER_CUTOFF, "open"].tolist()
    assert links == [f"/users?ref={audit.user_ref(u)}" for u in unpaid["user_id"]]


def test_users_page_lists_the_actions_before_a_search_and_opens_a_linked_user(
        daily: AppTest, demo_db: Path) -> None:
    daily.switch_page("../pages/users.py").run()
    assert not daily.exception
    table = daily.dataframe[0].value
    assert not table.empty and set(table["what"]) >= {actions.OVER_CUTOFF}
    link = table["open"].dropna().iloc[0]
    daily.query_params["ref"] = link.split("ref=")[1]
    daily.run()
    assert not daily.exception
    shown = daily.selectbox[0]
    assert shown.value is not None and mask_phone(shown.value) == table["user"].dropna().iloc[0]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 30)), max_size=40,
                unique_by=lambda r: r[1]), st.integers(0, 12))
def test_the_most_cost_users_are_those_of_a_full_sort_ties_included(users, n) -> None:
    """`ranking.most` sorts only the rows that can be in the top n: the same rows, in the
    same order, as sorting everyone (few distinct costs, so ties cross the n-th)."""
    from queries.ranking import most

    def _most_cost(df: pd.DataFrame, n: int | None = None) -> pd.DataFrame:
        return most(df, "cost_micro", n)

    df = pd.DataFrame({"cost_micro": [c for c, _ in users],
                       "user_id": [f"+1555{u:04d}" for _, u in users]})
    want = df.sort_values(["cost_micro", "user_id"], ascending=[False, True]).head(n)
    pd.testing.assert_frame_equal(_most_cost(df, n), want)
    pd.testing.assert_frame_equal(_most_cost(df), df.sort_values(
        ["cost_micro", "user_id"], ascending=[False, True]))
