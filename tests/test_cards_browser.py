"""Cards with a large business's figures (a revenue of millions of dollars) are not cut off
at a laptop's width (five What-if cards in a row, four on Monthly), and a payment over
$1,000,000 is replayed, not an overflow."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser import chromium_page, screenshot, streamlit_server, wait_for_app
from tests.kpi_fixtures import cost, revenue
from tests.test_landing_browser import CUT_OFF_JS

USERS = [f"+1555000{i:04d}" for i in range(6)]


@pytest.mark.browser
def test_millions_of_dollars_fit_their_cards(make_db, tmp_path: Path) -> None:
    costs = [cost(u, f"2026-03-{d:02d} 09:00:00", "meal_plan", "123456.78")
             for u in USERS for d in (3, 4)]
    pays = [revenue(u, "2026-03-05 10:00:00", "premium", "1234567.89") for u in USERS]
    db = make_db(costs=costs, revenue=pays)
    env = {"PROFIT_DB": str(db), "PROFIT_SECRETS": str(tmp_path / "none.toml"),
           "PROFIT_AUDIT_LOG": str(tmp_path / "audit.log")}
    with streamlit_server(env, tmp_path) as url, chromium_page(1400, 1000) as page:
        seen = {}
        for name in ("monthly?month=2026-03", "what-if"):
            page.goto(f"{url}/{name}")
            wait_for_app(page, 120)
            screenshot(page, f"cards-{name.split('?')[0]}")
            values = page.locator('[data-testid="stMetricValue"]').all_inner_texts()
            seen[name] = values
            assert page.evaluate(CUT_OFF_JS) == [], name
        # revenue 6 × $1,234,567.89, replayed as it was (a payment over $1 M once overflowed
        # the replay's read: DECIMAL(18, 6) times a million)
        assert "$7,407,407.34" in seen["what-if"]
        assert "$7,407,407.34" in seen["monthly?month=2026-03"]
        assert "$5,925,925.98" in seen["monthly?month=2026-03"]  # profit: less 12 × $123,456.78
