"""Plain modules every package may import: settings, targets, formats, privacy, secrets,
the audit log and the registry of figures. No Streamlit and nothing of `dashboard/`."""
