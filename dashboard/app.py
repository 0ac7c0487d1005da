"""The app's entry: page config, navigation, and nothing else.

`streamlit run dashboard/app.py`. Each page is a thin file in `pages/`.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `streamlit run` puts dashboard/ on the path, not the root
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from dashboard import ui  # noqa: E402

PAGES = ROOT / "pages"

st.set_page_config(page_title="Profit dashboard", page_icon="💹", layout="wide")

navigation = st.navigation(
    {
        "Every day": [
            st.Page(PAGES / "daily.py", title="Daily", icon="📅", default=True, url_path="daily"),
            st.Page(PAGES / "weekly.py", title="Weekly", icon="🗓️", url_path="weekly"),
            st.Page(PAGES / "monthly.py", title="Monthly", icon="📆", url_path="monthly"),
            st.Page(PAGES / "users.py", title="Users", icon="👤", url_path="users"),
        ],
        "Decide": [
            st.Page(PAGES / "what_if.py", title="What-if", icon="🧪", url_path="what-if"),
        ],
        "Operate": [
            st.Page(PAGES / "data.py", title="Data", icon="🗄️", url_path="data"),
        ],
    }
)
ui.sidebar_footer()
navigation.run()
