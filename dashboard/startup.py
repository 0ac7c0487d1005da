"""What the app's server does once Streamlit's runtime is up, before the first visitor:
start `dashboard/warm.py`, and open the app in the browser (`dashboard/server.py` hands
this to its `st.App` as the lifespan)."""

from __future__ import annotations

import webbrowser
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any


def open_browser(opener: Callable[[str], Any] = webbrowser.open) -> str | None:
    """Open the app in the browser, as `streamlit run` does for a plain script and not for
    an `st.App`, unless the server is headless; returns the address it opened."""
    from streamlit import config

    if config.get_option("server.headless"):
        return None
    url = (f"http://{config.get_option('browser.serverAddress') or 'localhost'}:"
           f"{config.get_option('browser.serverPort') or config.get_option('server.port')}")
    opener(url)
    return url


@asynccontextmanager
async def lifespan(_app: object) -> AsyncIterator[None]:
    """Streamlit's lifespan protocol: runs after its runtime started."""
    from dashboard import warm

    warm.start()
    open_browser()
    yield
