"""The what_if page (being built)."""

import streamlit as st

st.title("what_if")
st.info("This page is being built.")
