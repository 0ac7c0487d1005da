"""The server's start-up hook (dashboard/startup.py): the warm thread, and the browser
opened on the app's address unless the server is headless (`make run` is not headless)."""

from __future__ import annotations

import asyncio

import pytest
from streamlit.testing.v1.util import patch_config_options

from dashboard import startup, warm


def test_the_browser_opens_on_the_apps_address_unless_headless() -> None:
    opened: list[str] = []
    with patch_config_options({"server.headless": False, "server.port": 8599,
                               "browser.serverAddress": "localhost"}):
        assert startup.open_browser(opened.append) == "http://localhost:8599"
    with patch_config_options({"server.headless": True}):
        assert startup.open_browser(opened.append) is None
    assert opened == ["http://localhost:8599"]


def test_the_lifespan_starts_the_warm_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[str] = []
    monkeypatch.setattr(warm, "start", lambda: started.append("warm"))
    monkeypatch.setattr(startup, "open_browser", lambda: started.append("browser"))

    async def serve() -> None:
        async with startup.lifespan(object()):
            started.append("serving")

    asyncio.run(serve())
    assert started == ["warm", "browser", "serving"]
