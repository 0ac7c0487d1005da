"""Alerts and delivery: the dashboard tells founders when something needs them, once.

`python -m alerts check` (for cron) evaluates the rules (`alerts.rules`) on the query
layer's figures and core.targets' targets, keeps once-per-(rule, key, period) state in a
small JSON file beside the database (`alerts.state`), and sends what is new to the
channels of `[alerts]` (`alerts.channels`), retrying within a run and again on the next.
Plain Python: no Streamlit, nothing of the dashboard.
"""
