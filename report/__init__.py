"""The weekly report: its model, its four formats and its command. Plain Python, no Streamlit."""
