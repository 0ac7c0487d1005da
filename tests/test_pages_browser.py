"""Every page in a real browser over the demo business: no exception, a screenshot each."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser import chromium_page, screenshot, streamlit_server, wait_for_app

# "" is Daily, the default
PAGES = ["", "weekly", "monthly", "users", "what-if", "data", "targets", "glossary"]


@pytest.mark.browser
def test_every_page_renders_without_exception_in_chromium(demo_db: Path, tmp_path: Path) -> None:
    env = {"PROFIT_DB": str(demo_db), "PROFIT_SECRETS": str(tmp_path / "no-secrets.toml")}
    failures = []
    with streamlit_server(env, tmp_path) as url, chromium_page() as page:
        for name in PAGES:
            page.goto(f"{url}/{name}")
            wait_for_app(page)
            screenshot(page, f"page-{name or 'daily'}")
            errors = page.locator('[data-testid="stException"]')
            if errors.count():
                failures.append(f"{name}: {errors.first.inner_text()[:500]}")
            if page.get_by_text("Page not found").count():
                failures.append(f"{name}: page not found")
            assert page.locator("h1").first.inner_text(), f"{name} has no title"
    assert failures == []
