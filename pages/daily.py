"""The daily page (being built)."""

import streamlit as st

st.title("daily")
st.info("This page is being built.")
