"""Users: find one user by the last digits of the phone and see their month.

The phone is bound as a parameter (`queries/user_search.sql`), shown only masked, and
never put in the URL or a chart; the month travels in `st.query_params` as `month`.
"""

from __future__ import annotations

import streamlit as st

from core import formats, settings
from core.privacy import mask_phone
from dashboard import auth, data, morning, ui
from dashboard import user_charts as charts
from queries import kpis, users
from report import cells

EVENT_COLUMNS = (
    ("ts_local", "Time (local)", cells.WHEN), ("kind", "Kind", cells.TEXT),
    ("name", "Action / stream", cells.TEXT), ("event_type", "Source label", cells.TEXT),
    ("category", "Category", cells.TEXT), ("counted", "Counted", cells.BOOL),
    ("cost_micro", "Cost", cells.MONEY), ("revenue_micro", "Revenue", cells.MONEY),
    ("partner", "Partner / plan", cells.TEXT), ("tokens", "Tokens", cells.COUNT),
    ("mtd_cost_micro", "Cost MTD", cells.MONEY),
    ("mtd_revenue_micro", "Revenue MTD", cells.MONEY), ("level", "Level after", cells.TEXT),
)

st.title("Users")
ui.require_data()
tz = settings.timezone()
policy = ui.current_policy()

digits = st.text_input("Last digits of the phone", max_chars=15, placeholder="e.g. 0001",
                       help="At least two digits; anything but digits is ignored.")
ref = ui.query_param("ref")  # a link from the action list names the user by reference
if len(users.digits_only(digits)) >= 2:
    found = data.cached(users.search)(digits=users.digits_only(digits), tz=tz)
elif ref:
    found = data.cached(users.by_ref)(ref=ref, tz=tz)
else:
    st.info("Type at least the last two digits of the user's phone, or open a user below.")
    span = data.cached(kpis.data_span)(tz=tz)
    if span is not None:
        morning.render_actions(span[1].isoformat(), tz, str(settings.policy_path()),
                               key="users_actions")
    st.stop()
if found.empty:
    st.warning("No user's phone ends with those digits." if digits else
               "The link names no user in this data.")
    st.stop()

seen = {row.user_id: f"{mask_phone(row.user_id)} · seen {row.first_seen:%Y-%m-%d} → "
                     f"{row.last_seen:%Y-%m-%d}" for row in found.itertuples()}
user = st.selectbox(f"User ({len(found):,} found{', latest first' if len(found) > 1 else ''})",
                    list(seen), format_func=seen.get)
auth.reveal_control(user)  # admins only; each reveal is written to the audit log

months = data.cached(users.months_of)(user=user, tz=tz)
wanted = ui.query_param("month")
if wanted not in months and ui.query_param("week"):
    try:
        wanted = kpis.period_name("month", kpis.make_period("week", ui.query_param("week"))
                                  .last_day)
    except ValueError:
        wanted = None
month = st.selectbox("Month", months, index=months.index(wanted) if wanted in months else 0,
                     format_func=lambda m: kpis.make_period("month", m).label)
ui.set_query_param("month", month)

events = data.cached(users.month_events)(user=user, month=month, tz=tz, policy=policy)
balances = data.cached(users.token_balances)(user=user, tz=tz)

last = events.iloc[-1] if not events.empty else None
cost = cells.to_usd(last["mtd_cost_micro"]) if last is not None else None
revenue = cells.to_usd(last["mtd_revenue_micro"]) if last is not None else None
profit = cells.to_usd(last["mtd_profit_micro"]) if last is not None else None
target = cells.to_usd(policy.target)
cards = st.columns([1, 1, 1, 1.6, 1])
with cards[0]:
    ui.kpi_card("Cost, month to date", cells.fmt_money(cost), help="counted cost only")
with cards[1]:
    ui.kpi_card("Revenue, month to date", cells.fmt_money(revenue))
with cards[2]:
    ui.kpi_card("Profit, month to date", cells.fmt_money(profit),
                target=f"at least {cells.fmt_money(target)}",
                ok=None if profit is None else profit >= target)
with cards[3]:
    ui.kpi_card("Level", "–" if last is None else formats.level_name(last["level"]),
                help="level_of(month-to-date cost, revenue) after the month's last event")
with cards[4]:
    latest = None if balances.empty else int(balances["balance"].iloc[-1])
    ui.kpi_card("Token balance", cells.fmt_count(latest), help="the latest snapshot loaded")

st.plotly_chart(charts.mtd_chart(events, policy), width="stretch")
left, right = st.columns(2)
with left:
    st.plotly_chart(charts.level_chart(events), width="stretch")
with right:
    if balances.empty:
        st.info("No token balance loaded for this user.")
    else:
        st.plotly_chart(charts.balance_chart(balances), width="stretch")

st.subheader("Events this month")
ui.dataframe(cells.display_frame(events, EVENT_COLUMNS), hide_index=True, width="stretch",
             column_config={label: st.column_config.NumberColumn(label, format="$%.4f")
                            for _k, label, kind in EVENT_COLUMNS if kind == cells.MONEY})
