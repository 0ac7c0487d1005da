"""The monthly page (being built)."""

import streamlit as st

st.title("monthly")
st.info("This page is being built.")
