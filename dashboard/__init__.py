"""The Streamlit app, its settings, shared widgets and the weekly report."""
