"""The morning answer in a real browser, at a laptop's width and a phone's: the verdict in
the first screen, and no page showing None, nan or an unseparated count, or a cut-off card."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.browser import chromium_page, screenshot, streamlit_server, wait_for_app

PAGES = ["", "weekly", "monthly", "users", "what-if", "data", "targets", "glossary"]  # "" is Daily
WIDTHS = {"laptop": (1400, 1000), "phone": (390, 844)}
# a count of 5+ digits without separators, not part of a date, time, phone mask or id
BARE_COUNT = re.compile(r"(?<![\w.:/…-])\d{5,}(?![\w.:/-])")
# The card's own element and what is inside it: Streamlit clips the value's inner text.
CUT_OFF_JS = """() => [...document.querySelectorAll(
    '[data-testid="stMetricValue"], [data-testid="stMetricValue"] *, ' +
    '[data-testid="stMetricLabel"], h1, h2, h3')]
    .filter(e => e.offsetParent !== null && e.scrollWidth > e.clientWidth + 1)
    .map(e => e.innerText.slice(0, 60))"""


@pytest.mark.browser
@pytest.mark.parametrize("device", list(WIDTHS))
def test_pages_read_at_a_glance(device: str, demo_db: Path, tmp_path: Path) -> None:
    width, height = WIDTHS[device]
    env = {"PROFIT_DB": str(demo_db), "PROFIT_SECRETS": str(tmp_path / "none.toml"),
           "PROFIT_AUDIT_LOG": str(tmp_path / "audit.log")}
    problems: list[str] = []
    with streamlit_server(env, tmp_path) as url, chromium_page(width, height) as page:
        for name in PAGES:
            page.goto(f"{url}/{name}")
            wait_for_app(page)
            if name == "":
                box = page.locator(".st-key-verdict").bounding_box()
                assert box is not None, "no verdict container on the landing page"
                assert box["y"] + min(box["height"], 120) <= height, \
                    f"verdict starts below the first screen ({box})"
                assert "users" in page.locator(".st-key-verdict").inner_text()
            screenshot(page, f"glance-{device}-{name or 'daily'}")
            text = page.locator("[data-testid='stMain']").inner_text()
            for word in ("None", "nan", "NaT"):
                if re.search(rf"\b{word}\b", text):
                    problems.append(f"{name or 'daily'}: shows {word!r}")
            bare = [m for m in BARE_COUNT.findall(text) if not m.startswith("20")]
            if bare:
                problems.append(f"{name or 'daily'}: counts without separators {bare[:5]}")
            cut = page.evaluate(CUT_OFF_JS)
            if cut:
                problems.append(f"{name or 'daily'}: cut off {cut[:5]}")
    assert problems == []
