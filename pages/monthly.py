"""Monthly: the business against its targets, the revenue mix, retention cohorts, the spread of
profit per user and usage segments. Every number comes from queries.kpis; every target from
core.targets."""

from __future__ import annotations

import streamlit as st

from core import targets
from dashboard import data, kpi_charts, ui
from enforcement.money import usd
from enforcement.policy import load_policy
from queries import kpis as K

view = ui.period_page("Monthly", "month")
tz, policy, first, last = view.tz, view.policy, view.first, view.last
month, previous = view.period, view.previous
k, p = view.now, view.before
age = targets.month_number(K.period_name("month", first), month)
st.caption(f"{k['label']} (month {age} of the business) · reporting timezone {tz} · "
           f"change against {previous}"
           + (" · month to date" if K.parse_period("month", month)[1] > last else ""))

st.subheader("Business metrics against their targets")
# (figure, label, kind, target or None); kind picks the format and the delta's form
CARDS = [
    ("revenue_usd", "Revenue", "money", targets.target("revenue_usd")),
    ("cost_usd", "Cost", "money", targets.target("cost_usd")),
    ("profit_usd", "Profit", "money", None),
    ("margin_pct", "Margin", "pct", targets.target("margin_pct")),
    ("profit_per_user", "Profit per user", "money", targets.target("profit_per_user")),
    ("cost_per_user", "Cost per user", "money", targets.target("cost_per_user")),
    ("revenue_per_user", "Revenue per user", "money", None),
    ("users_at_target_pct", "Users at target (MTD)", "pct", targets.users_at_target(age)),
    ("payment_conversion_pct", "Payment conversion", "pct",
     targets.target("payment_conversion_pct")),
    ("retention_pct", "Retention", "pct", targets.target("retention_pct")),
    ("token_purchase_rate_pct", "Token purchase rate", "pct", None),
    ("active_users", "Active users", "count", None),
    ("new_users", "New users", "count", None),
    ("paying_users", "Paying users", "count", None),
]
INVERSE = {"cost_usd", "cost_per_user"}
PER_ROW = 4  # wide enough for five-figure dollars with cents
for start in range(0, len(CARDS), PER_ROW):
    for col, (name, label, kind, target) in zip(st.columns(PER_ROW), CARDS[start:start + PER_ROW],
                                                strict=False):
        value = k[name]
        shown = (ui.money(value) if kind == "money" else ui.pct(value) if kind == "pct"
                 else f"{value:,}")
        with col:
            ui.kpi_card(label, shown, delta=ui.change(value, p[name], kind),
                        delta_color="inverse" if name in INVERSE else "normal",
                        target=target.text if target else None,
                        ok=target.met(value) if target else None)

mix = K.revenue_mix(k)
left, right = st.columns(2)
left.plotly_chart(kpi_charts.revenue_mix(mix, targets.revenue_mix()), width="stretch")
with left:
    st.caption(" · ".join(
        ui.target_badge(None if mix[s] is None else abs(mix[s] - float(t)) <= 5,
                        f"{s} {ui.pct(mix[s])} (target {t:f}%, ±5 pts)")
        for s, t in targets.revenue_mix().items()))
right.plotly_chart(kpi_charts.cohort_heatmap(
    data.cached(K.retention_cohorts)(month=month, tz=tz)), width="stretch")

left, right = st.columns(2)
profits = data.cached(K.profit_per_user)(grain="month", period=month, tz=tz)
segments = data.cached(K.usage_segments)(grain="month", period=month, tz=tz, policy=policy)
target_usd = usd(load_policy(policy).target)
left.plotly_chart(kpi_charts.profit_distribution(profits["profit_usd"], target_usd),
                  width="stretch")
with left:
    below = int(segments["users"].sum() - segments["at_target"].sum())
    st.caption(f"{below:,} of {len(profits):,} active users made less than "
               f"{ui.money(target_usd)} of profit in {k['label']}.")
right.plotly_chart(kpi_charts.segments_bars(segments), width="stretch")
with right:
    st.dataframe(
        {"segment": segments["segment"], "users": segments["users"],
         "cost / user": [ui.money(v) for v in segments["cost_per_user"]],
         "profit / user": [ui.money(v) for v in segments["profit_per_user"]],
         "at target": [ui.pct(v) for v in segments["at_target_pct"]]},
        hide_index=True)
