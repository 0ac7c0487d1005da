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
ui.figure_cards("monthly", view, age)  # every monthly figure of core.metrics, with its target

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
profits = data.cached(K.profit_histogram)(grain="month", period=month, tz=tz)
segments = data.cached(K.usage_segments)(grain="month", period=month, tz=tz, policy=policy)
target_usd = usd(load_policy(policy).target)
left.plotly_chart(kpi_charts.profit_distribution(profits, target_usd), width="stretch")
with left:
    below = int(segments["users"].sum() - segments["at_target"].sum())
    st.caption(f"{below:,} of {int(profits['users'].sum()):,} active users made less than "
               f"{ui.money(target_usd)} of profit in {k['label']}.")
right.plotly_chart(kpi_charts.segments_bars(segments), width="stretch")
with right:
    ui.dataframe(
        {"segment": segments["segment"], "users": segments["users"],
         "cost / user": [ui.money(v) for v in segments["cost_per_user"]],
         "profit / user": [ui.money(v) for v in segments["profit_per_user"]],
         "at target": [ui.pct(v) for v in segments["at_target_pct"]]},
        hide_index=True)
