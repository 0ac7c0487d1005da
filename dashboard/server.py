"""The app served with a start-up hook: `streamlit run dashboard/server.py`.

The same app as `dashboard/app.py` (its pages, sign-in and settings), wrapped in an
`st.App` so that, once Streamlit's runtime is up and before the first visitor connects,
`dashboard/startup.py` starts `dashboard/warm.py` (the landing page's figures computed for
the published data, and again whenever a load publishes a new version) and opens the
browser.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_HERE = Path(__file__).resolve().parent
# as dashboard/app.py: the project's root first, dashboard/ (with its `report` shim) off
sys.path[:] = [str(ROOT)] + [p for p in sys.path
                             if p and Path(p).resolve() not in (_HERE, ROOT)]

import streamlit as st  # noqa: E402

from dashboard.startup import lifespan  # noqa: E402

app = st.App("app.py", lifespan=lifespan)
