"""The What-if page in a real Chromium: change a threshold, read the panel, run a sweep.

Uses the shared harness (tests/browser.py). Screenshots go to tests/artifacts/ for a
person to look at.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.browser import chromium_page, screenshot, streamlit_server, wait_for_app


def _settle(page, done: Callable[[], bool], timeout_s: float = 90) -> None:
    """Wait for the page's own sign that a run finished (the shared wait can return while
    a slow first run - numba import and compile - is still going)."""
    wait_for_app(page)
    deadline = time.monotonic() + timeout_s
    while not done():
        if page.locator('[data-testid="stException"]').count():
            raise AssertionError(page.locator('[data-testid="stException"]').first.inner_text())
        if time.monotonic() > deadline:
            raise TimeoutError("the What-if page did not finish")
        time.sleep(0.25)
    wait_for_app(page)


def _metric(page, label: str) -> str:
    card = page.locator('[data-testid="stMetric"]', has_text=label).first
    return card.locator('[data-testid="stMetricValue"]').inner_text()


@pytest.mark.browser
def test_change_a_threshold_run_the_panel_and_a_sweep(demo_db: Path, tmp_path: Path) -> None:
    env = {"PROFIT_DB": str(demo_db), "PROFIT_SECRETS": str(tmp_path / "no-secrets.toml")}
    with streamlit_server(env, tmp_path) as url, chromium_page(1400, 4200) as page:
        page.goto(f"{url}/what-if?from=2026-03&to=2026-03")
        _settle(page, lambda: page.locator('[data-testid="stDownloadButton"]').count() > 0)
        assert page.locator('[data-testid="stException"]').count() == 0
        screenshot(page, "what-if-start")
        before = _metric(page, "Refused: affiliate")

        # Lower the free tier from $0.50 to $0.25 (the founders' question).
        field = page.get_by_role("textbox", name="free tier (USD)", exact=True)
        field.fill("0.25")
        field.press("Enter")
        _settle(page, lambda: "p.thresholds.free_tier=0.25" in page.url
                and _metric(page, "Refused: affiliate") != before)
        assert page.locator('[data-testid="stException"]').count() == 0
        assert "p.thresholds.free_tier=0.25" in page.url
        after = _metric(page, "Refused: affiliate")
        assert after != before
        assert page.get_by_text("start: 0.50").count() >= 1
        screenshot(page, "what-if-edited")

        # A refused order shows the loader's message beside the field.
        cutoff = page.get_by_role("textbox", name="cutoff (USD)", exact=True)
        cutoff.fill("1.00")
        cutoff.press("Enter")
        # (markdown shows ">=" as "≥")
        refused = page.get_by_text("thresholds.restriction (1.75), got 1.00")
        _settle(page, lambda: refused.count() > 0)
        screenshot(page, "what-if-refused")
        assert _metric(page, "Refused: affiliate") == after
        cutoff.fill("2.00")
        cutoff.press("Enter")
        _settle(page, lambda: refused.count() == 0)

        # The sweep: 20 steps of the cutoff over 1.75-3.00 (2.00 added), in its fragment.
        page.get_by_role("button", name="Run sweep").click()
        swept = page.get_by_text("21 values replayed")  # 20 steps and the current value
        _settle(page, lambda: swept.count() > 0)
        assert page.locator('[data-testid="stException"]').count() == 0
        page.get_by_text("Sensitivity sweep").scroll_into_view_if_needed()
        screenshot(page, "what-if-sweep")

        # Probe one user's next request.
        digits = page.get_by_role("textbox", name="Phone ends with", exact=True)
        digits.fill("1")
        digits.press("Enter")
        _settle(page, lambda: page.get_by_text("Starting policy").count() > 0)
        assert page.locator('[data-testid="stException"]').count() == 0
        screenshot(page, "what-if-probe")
