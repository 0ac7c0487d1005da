"""Weekly: the week against the week before, who makes and loses money, and the report files.

Everything shown comes from `report.model.build_weekly` (the query layer), the same
object the weekly report command renders, so the page and the files agree to the cent.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import pandas as pd
import streamlit as st

from core import formats, metrics, settings
from dashboard import data, ui
from enforcement.levels import LEVELS
from queries import kpis as K
from queries import weekly
from report import cells, charts, files, model
from report import columns as cols


def table(df: pd.DataFrame, columns: Sequence[tuple[str, str, str]]) -> None:
    """A report table on the page: labelled, phones masked, money shown as dollars."""
    money = {label: st.column_config.NumberColumn(label, format="dollar")
             for _k, label, kind in columns if kind == cells.MONEY}
    # printf puts a sign after a "$" ("$-0.0010"): per-request money shows as plain USD
    unit = {label: st.column_config.NumberColumn(f"{label} (USD)", format="%.4f")
            for _k, label, kind in columns if kind == cells.UNIT_MONEY}
    pct = {label: st.column_config.NumberColumn(label, format="%.1f%%")
           for _k, label, kind in columns if kind == cells.PCT}
    ui.dataframe(cells.display_frame(df, columns), hide_index=True, width="stretch",
                 column_config=money | unit | pct)


st.title("Weekly")
ui.require_data()

tz = settings.timezone()
policy = ui.current_policy()
span = data.cached(K.data_span)(tz=tz)
if span is None:
    st.info("No cost or revenue event is loaded yet.")
    st.stop()
week = ui.period_picker("week", *span, default=data.cached(weekly.default_week)(tz=tz))

rep: model.WeeklyReport = data.cached(model.build_weekly)(week=week, tz=tz, policy=policy)
st.caption(f"{rep.label} · compared with {rep.previous} · timezone {tz} · policy {policy.name}")
if rep.empty:
    st.warning(f"No data for {rep.week}: no cost or revenue event in that week.")

# -- the report files first, built by the report command's code ----------------------------
st.caption("This week's report: the same files as `python -m dashboard.report weekly`; "
           "phones masked.")
for col, fmt in zip(st.columns(len(files.FORMATS)), files.FORMATS, strict=True):
    with col:
        st.download_button(f"Download .{fmt}", functools.partial(files.render, rep, fmt),
                           file_name=files.file_name(rep, fmt), mime=files.MIME[fmt],
                           on_click="ignore", key=f"download_{fmt}")

# -- headline figures against the week before and the targets ------------------------------
rows = {r["key"]: r for r in model.kpi_table(rep)}
shown = metrics.headline(metrics.WEEKLY)  # the week's headline figures of core.metrics
for start in range(0, len(shown), 4):
    for col, m in zip(st.columns(4), shown[start:start + 4], strict=False):
        r = rows[m.key]
        with col:
            ui.figure_card(m, r["value"], r["previous"], r["target"])

with st.expander("Every key figure against the week before"):
    ui.dataframe(
        [{"Figure": r["label"], rep.week: cells.show(r["kind"], r["value"]),
          rep.previous: cells.show(r["kind"], r["previous"]),
          "Change": cells.fmt_change(r["kind"], r["value"], r["previous"]),
          "Target": cells.fmt_target(r["target"], r["kind"]),
          "Met": "" if r["met"] is None else ("✔" if r["met"] else "✘")}
         for r in rows.values()], hide_index=True, width="stretch")

left, right = st.columns(2)
with left:
    st.plotly_chart(charts.levels_chart(rep.kpis["users_by_level"]), width="stretch")
with right:
    st.plotly_chart(charts.streams_chart(rep.streams, rep.week, rep.previous), width="stretch")

# -- the user-level profit table -----------------------------------------------------------
st.subheader("User-level profit")
levels = st.multiselect("Level (month to date)", [lv.value for lv in LEVELS],
                        default=[lv.value for lv in LEVELS], format_func=formats.level_name)
users = rep.users[rep.users["level"].isin(levels)]
if len(users) > ui.TABLE_ROWS:
    st.caption(f"{len(users):,} of {len(rep.users):,} users with a counted cost or a revenue "
               f"event in the week; shown: the {ui.TABLE_ROWS:,} with the lowest profit "
               "(the downloads above hold every user). Phones show their last four digits.")
    users = users.head(ui.TABLE_ROWS)
else:
    st.caption(f"{len(users):,} of {len(rep.users):,} users with a counted cost or a revenue "
               "event in the week; click a column to sort. Phones show their last four "
               "digits.")
table(users, cols.user_columns())

# -- revenue streams and cost drivers ------------------------------------------------------
st.subheader("Revenue stream performance")
table(rep.streams, cols.STREAM_COLUMNS)
with st.expander("By partner / plan"):
    table(rep.partners, cols.PARTNER_COLUMNS)

st.subheader("Top cost drivers")
left, right = st.columns(2)
with left:
    if not rep.actions.empty:
        st.plotly_chart(charts.actions_chart(rep.actions, rep.week, rep.previous),
                        width="stretch")
    table(rep.actions, cols.ACTION_COLUMNS)
with right:
    top = rep.top_users
    if not top.empty:
        labels = top["user_id"].map(lambda u: cells.phone(u, masked=True))
        st.plotly_chart(charts.top_users_chart(top, labels), width="stretch")
    table(top, cols.TOP_USER_COLUMNS)

# -- cost optimisation opportunities (the guide's weekly report section) -------------------
st.subheader("Cost optimisation opportunities")
st.markdown("**Unit economics per action**")
st.caption(model.ECONOMICS_DEFINITION)
table(rep.economics, cols.ECONOMICS_COLUMNS)  # full width: the unit margin is the point
left, right = st.columns(2)
with left:
    st.markdown("**Categories whose cost grew**")
    st.caption(model.CATEGORY_DEFINITION)
    if rep.categories.empty:
        st.info(f"No category's cost grew against {rep.previous}.")
    else:
        table(rep.categories, cols.CATEGORY_COLUMNS)
with right:
    if not rep.economics.empty:
        st.plotly_chart(charts.economics_chart(rep.economics), width="stretch")
for heading, rule, frame, columns, none in (
        ("Users whose cost exceeds their revenue the most", model.LOSS_DEFINITION,
         rep.loss_users, cols.LOSS_USER_COLUMNS,
         "No user's cost exceeded their revenue this week."),
        ("Estimated against actual cost", model.ACCURACY_DEFINITION, rep.accuracy,
         cols.ACCURACY_COLUMNS, "No estimate was recorded this week.")):
    st.markdown(f"**{heading}**")
    st.caption(rule)
    if frame.empty:
        st.info(none)
    else:
        table(frame, columns)

st.subheader("Intervention effectiveness")
st.caption(model.INTERVENTION_DEFINITION)
table(rep.interventions, cols.INTERVENTION_COLUMNS)
if int(rep.interventions["crossed"].sum()):
    st.plotly_chart(charts.interventions_chart(rep.interventions), width="stretch")
