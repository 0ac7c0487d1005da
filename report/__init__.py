"""The weekly report, plain Python (no Streamlit), in one module per job:

- `model`: what the report holds (`build_weekly` from the query layer, `kpi_table`, targets);
- `cells`, `columns`: how a value is typed and shown, and what each table's columns are;
- `html`, `xlsx`, `csv`, `pdf`: one module per format; `files`: the format of a path;
- `command`: `python -m report weekly` (and `python -m dashboard.report weekly`);
- `charts`: the Plotly figures the Weekly page and the HTML share.
"""
