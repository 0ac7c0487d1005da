"""The app served with a start-up hook: `streamlit run dashboard/server.py`.

The same app as `dashboard/app.py` (its pages, sign-in and settings), wrapped in an
`st.App` so that, once Streamlit's runtime is up and before the first visitor connects,
`dashboard/warm.py` starts computing the landing page's figures for the published data,
and computes them again whenever a load publishes a new version.
"""

from __future__ import annotations

import sys
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
_HERE = Path(__file__).resolve().parent
# as dashboard/app.py: the project's root first, dashboard/ (with its `report` shim) off
sys.path[:] = [str(ROOT)] + [p for p in sys.path
                             if p and Path(p).resolve() not in (_HERE, ROOT)]

import streamlit as st  # noqa: E402


@asynccontextmanager
async def lifespan(_app: Any):  # noqa: ANN201 - Streamlit's lifespan protocol
    from dashboard import warm

    warm.start()
    yield


app = st.App("app.py", lifespan=lifespan)
