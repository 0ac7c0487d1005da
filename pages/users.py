"""The users page (being built)."""

import streamlit as st

st.title("users")
st.info("This page is being built.")
