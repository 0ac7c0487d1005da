"""The weekly page (being built)."""

import streamlit as st

st.title("weekly")
st.info("This page is being built.")
