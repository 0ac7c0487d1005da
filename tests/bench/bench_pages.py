"""How fast each page is ready in a real browser: data shown and every chart drawn.

One Chromium session opens every page in turn (the first page of a fresh browser is timed
on its own, since it also loads Streamlit's bundle). Baseline: the Glossary, a page of
the same app that reads no data and draws no chart, measured in the same session; the ratio
says what our data and charts cost on top of Streamlit itself.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from tests.browser import chromium_page, streamlit_server, wait_for_app

PAGES = ["", "weekly", "monthly", "users", "what-if", "data", "targets", "glossary"]
CHARTS_DRAWN_JS = """() => [...document.querySelectorAll('[data-testid="stPlotlyChart"]')]
    .every(c => c.querySelector('.main-svg'))"""


def _ready(page: object, url: str) -> float:
    t0 = time.perf_counter()
    page.goto(url)
    wait_for_app(page)
    page.wait_for_function(CHARTS_DRAWN_JS, timeout=120_000)
    return time.perf_counter() - t0 - 0.55  # wait_for_app's own settling pauses


def run(users: int, db: Path) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        env = {"PROFIT_DB": str(db), "PROFIT_SECRETS": str(Path(tmp) / "none.toml"),
               "PROFIT_AUDIT_LOG": str(Path(tmp) / "audit.log")}
        with streamlit_server(env, Path(tmp)) as url, chromium_page() as page:
            first = _ready(page, f"{url}/")
            base = min(_ready(page, f"{url}/glossary") for _ in range(2))
            times = {name: _ready(page, f"{url}/{name}") for name in PAGES}
            again = {name: _ready(page, f"{url}/{name}") for name in PAGES}
    rows.append({"benchmark": "page ready: Daily, fresh browser (goal ≤ 8 s)", "users": users,
                 "figure": f"{first:.2f} s", "baseline": f"glossary {base:.2f} s",
                 "ratio": f"{first / base:.1f}x" if base > 0 else "-"})
    for name in PAGES:
        rows.append({
            "benchmark": f"page ready: {name or 'daily'} first / again (goal ≤ 3 s)",
            "users": users, "figure": f"{times[name]:.2f} / {again[name]:.2f} s",
            "baseline": f"glossary {base:.2f} s",
            "ratio": f"{times[name] / base:.1f}x" if base > 0 else "-"})
    return rows
