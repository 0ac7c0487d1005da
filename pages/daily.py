"""Daily (the landing page): are we OK this month (the verdict), whom to act on, then the
picked day's figures against the day before, 90-day trends and where the money went. Every
number comes from the query layer (queries.verdict, queries.actions, queries.kpis)."""

from __future__ import annotations

from datetime import date

import streamlit as st

from core import palette, targets
from dashboard import alerts_panel, data, kpi_charts, morning, prefetch, ui
from queries import kpis as K
from queries import verdict

view = ui.period_page("Daily", "day")
tz, policy, first, day, previous = view.tz, view.policy, view.first, view.period, view.previous
k, p = view.now, view.before
# the answer first, in the phone's first screen; the day's KPIs hold its month to date
morning.render_verdict(day, tz, policy, first, mtd=verdict.mtd_of(k))
morning.render_actions(day, tz, policy, key="daily_actions")
alerts_panel.firing_now()  # what the alert rules find at this moment, whatever the day picked

st.subheader(f"{k['label']}")
st.caption(f"Reporting timezone {tz} · change against {previous}")

age = targets.month_number(K.period_name("month", first), day[:7])
ui.figure_cards("daily", view, age)  # the day's figures of core.metrics, with their targets
at_target = targets.users_at_target(age)  # the trend chart's line

trend_first, trend_last = morning.trend_window(day, first)
series = data.cached(K.daily_series)(first_day=trend_first, last_day=trend_last, tz=tz,
                                     policy=policy)
left, right = st.columns(2)
left.plotly_chart(kpi_charts.money_trend(series), width="stretch")
left.caption("How to read this: data revenue is paid once a month, on its last day, so "
             "revenue and profit spike there; the share at target climbs through each month "
             "as users pay, and starts again on the 1st.")
right.plotly_chart(kpi_charts.at_target_trend(series, at_target.value), width="stretch")

left, mid, right = st.columns(3)
left.plotly_chart(kpi_charts.money_bars(k["cost_by_action"], "Cost by action (USD)", x="Action",
                                        color=palette.COST), width="stretch")
mid.plotly_chart(kpi_charts.money_bars(k["cost_by_category"], "Cost by category (USD)",
                                       x="Category", color=palette.COST), width="stretch")
right.plotly_chart(kpi_charts.money_bars(k["revenue_by_stream"], "Revenue by stream (USD)",
                                         x="Stream"), width="stretch")

left, right = st.columns(2)
left.plotly_chart(kpi_charts.levels_bars(k["users_by_level"],
                                         "Users by level, month to date (users)"),
                  width="stretch")
with right:
    st.subheader("Cost per user")
    spikes = K.cost_per_user_alerts(series)
    if spikes.empty:
        st.success(f"No day in the last {morning.TREND_DAYS} had a cost per user far above "
                   "the usual.")
    else:
        st.warning(f"{len(spikes)} days with a cost per user over twice the usual (the median "
                   "of the 28 days before)")
        ui.dataframe({"day": spikes["day"],
                      "cost per user": [ui.money(v, decimals=4) for v in spikes["cost_per_user"]],
                      "usual": [ui.money(v, decimals=4) for v in spikes["usual"]],
                      "× usual": [f"{v:.1f}" for v in spikes["times_usual"]]}, hide_index=True)

# the next page is most often Weekly: its report builds while this one is read
prefetch.weekly_reports(K.period_name("week", date.fromisoformat(day)), tz)
