"""Data: what is loaded, when, from where, and what was refused and why."""

from __future__ import annotations

import plotly.express as px
import streamlit as st

from core import secrecy, settings
from core.privacy import mask_text
from dashboard import alerts_panel, data, ui
from dashboard.sources import render_sources
from queries import policies

st.title("Data")
if data.current_version() is None:  # nothing loaded yet: offer the configured sources
    render_sources()
ui.require_data()

fresh = data.query("data_freshness").iloc[0]
st.caption(f"Data shown as of the load finished **{fresh['last_load']} UTC**; "
           f"newest event **{fresh['last_event']} UTC**.")

st.subheader("What is loaded")
tables = data.query("loaded_tables")
cols = st.columns(len(tables))
for col, row in zip(cols, tables.itertuples(), strict=True):
    with col:
        ui.kpi_card(f"{row.table_name} (rows)", f"{row.rows:,}", help="rows in the table")
        span = f"{row.first_ts} → {row.last_ts} UTC" if row.rows else "empty"
        st.caption(f"{row.users:,} users · {span}")

st.subheader("Load log")
log = data.query("load_log", limit=200)
hidden = secrecy.secret_values(settings.secrets())  # an error may quote a URL or a key
for column in ("source", "error"):  # a file named after a phone is a phone too
    log[column] = [secrecy.redact(e, hidden) if isinstance(e, str) else e for e in log[column]]
ui.dataframe(log, hide_index=True, width="stretch")

st.subheader("Policies in force")
in_force = data.cached(policies.in_force)()
if in_force.empty:
    st.caption("No decision recorded by the chatbot's runtime yet: the loaded history was "
               "written by the original service, which recorded no policy.")
else:
    st.caption("Which policy the runtime decided with, and when (UTC): the What-if page can "
               "start from the newest.")
    ui.dataframe(in_force.rename(columns={"first_decision": "first decision",
                                          "last_decision": "last decision"}),
                 hide_index=True, width="stretch")

st.subheader("Rejected rows")
reasons = data.query("rejected_reasons")
if reasons.empty:
    st.success("No row has been refused.")
else:
    reasons["reason"] = reasons["reason"].map(mask_text)
    fig = px.bar(reasons, x="rows", y="reason", color="table_name", orientation="h",
                 title="Rows refused by reason (count)",
                 labels={"rows": "rows refused", "reason": "reason", "table_name": "table"})
    st.plotly_chart(fig, width="stretch")
    rejected = data.query("rejected_rows", limit=1000)
    for column in ("source", "reason", "raw_record"):  # each may quote a phone, any spelling
        rejected[column] = rejected[column].map(mask_text)
    ui.dataframe(rejected, hide_index=True, width="stretch")

render_sources()

alerts_panel.sent_list()  # the alerts `python -m alerts check` sent, and admins' tests
