"""The app's entry: page config, navigation, and nothing else.

`streamlit run dashboard/app.py`, or `dashboard/server.py`, which serves this same app and
starts computing the landing page's figures before the first visitor (`make run`). Each
page is a thin file in `pages/`.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# `streamlit run` puts dashboard/ first on the path, where `report` would be the command's
# shim (dashboard/report.py), not the report package: the project's root goes first instead.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [str(ROOT)] + [p for p in sys.path
                             if p and Path(p).resolve() not in (_HERE, ROOT)]

import streamlit as st  # noqa: E402

from dashboard import auth, ui, warm  # noqa: E402

PAGES = ROOT / "pages"

st.set_page_config(page_title="Profit dashboard", page_icon=":material/monitoring:",
                   layout="wide")
warm.start()  # once per process: Daily's and Weekly's figures computed as data is published


def page(file: str, title: str, icon: str, **kwargs: object) -> st.Page:
    """A page of `pages/` by absolute path, with its URL named after the file."""
    return st.Page(PAGES / file, title=title, icon=f":material/{icon}:",
                   url_path=file.removesuffix(".py").replace("_", "-"), **kwargs)


navigation = st.navigation(
    {
        "Every day": [
            page("daily.py", "Daily", "today", default=True),
            page("weekly.py", "Weekly", "date_range"),
            page("monthly.py", "Monthly", "calendar_month"),
            page("users.py", "Users", "person_search"),
        ],
        "Decide": [page("what_if.py", "What-if", "tune")],
        "Operate": [page("data.py", "Data", "database"),
                    page("targets.py", "Targets", "flag"),
                    page("glossary.py", "Glossary", "menu_book")],
    },
    position=auth.nav_position(),  # the page list stays hidden until sign-in
)
auth.require_sign_in()  # before any page or data: until then only the sign-in form renders
ui.card_style()
ui.sidebar_footer()
navigation.run()
