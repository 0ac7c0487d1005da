"""How fast each page is ready in a real browser: data shown and every chart drawn.

One Chromium session opens every page in turn (the first page of a fresh browser is timed
on its own, since it also loads Streamlit's bundle). Baseline: the Glossary, a page of
the same app that reads no data and draws no chart, measured in the same session; the ratio
says what our data and charts cost on top of Streamlit itself. Goals (issue 13, at
1,000,000 users): Daily, Weekly and Monthly ready within 5 s on first open and 2 s after;
the app process under 4 GB at its peak (read from /proc once every page has run). Then a
second server, and a fresh browser WARM_WAIT_S after it started: Daily and Weekly as the
first visitor after a load finds them (dashboard/warm.py has computed them by then).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from tests.browser import chromium_page, streamlit_server, wait_for_app

# seconds from a server's start to the warmed visit: at 1,000,000 users Daily's defaults
# and both Weekly reports take ~15 s to compute; at 100,000 a few
WARM_WAIT_S = {10_000: 5, 100_000: 5, 1_000_000: 25}
PAGES = ["", "weekly", "monthly", "users", "what-if", "data", "targets", "glossary"]
CHARTS_DRAWN_JS = """() => [...document.querySelectorAll('[data-testid="stPlotlyChart"]')]
    .every(c => c.querySelector('.main-svg'))"""


def _ready(page: object, url: str) -> float:
    t0 = time.perf_counter()
    page.goto(url)
    wait_for_app(page)
    page.wait_for_function(CHARTS_DRAWN_JS, timeout=120_000)
    return time.perf_counter() - t0 - 0.55  # wait_for_app's own settling pauses


def _memory_gb(url: str) -> tuple[float, float] | None:
    """The app server's peak and current resident memory (VmHWM, VmRSS), by its port."""
    port = url.rsplit(":", 1)[1]
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
            status = (proc / "status").read_text()
        except OSError:
            continue
        if b"streamlit" in b" ".join(argv) and port.encode() in argv:
            kb = {line.split(":")[0]: int(line.split()[1]) for line in status.splitlines()
                  if line.startswith(("VmHWM:", "VmRSS:"))}
            return kb["VmHWM"] / 1024 / 1024, kb["VmRSS"] / 1024 / 1024
    return None


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
            memory = _memory_gb(url)
        # a visit after the server has been up a while (the morning after a night's load):
        # dashboard/warm.py has computed Daily's and Weekly's default figures by then
        with streamlit_server(env, Path(tmp)) as url:
            wait = WARM_WAIT_S.get(users, 25)
            time.sleep(wait)
            with chromium_page() as page:
                warm_daily = _ready(page, f"{url}/")
                warm_weekly = _ready(page, f"{url}/weekly")
    rows.append({"benchmark": "page ready: Daily, fresh browser (goal ≤ 5 s)", "users": users,
                 "figure": f"{first:.2f} s", "baseline": f"glossary {base:.2f} s",
                 "ratio": f"{first / base:.1f}x" if base > 0 else "-"})
    rows.append({"benchmark": f"page ready: Daily fresh, then Weekly, {wait} s after the "
                              "server started (warmed)", "users": users,
                 "figure": f"{warm_daily:.2f} / {warm_weekly:.2f} s",
                 "baseline": f"at the start {first:.2f} / {times['weekly']:.2f} s",
                 "ratio": f"{first / warm_daily:.1f}x" if warm_daily > 0 else "-"})
    for name in PAGES:
        rows.append({
            "benchmark": f"page ready: {name or 'daily'} first / again (goal ≤ 5 / ≤ 2 s)",
            "users": users, "figure": f"{times[name]:.2f} / {again[name]:.2f} s",
            "baseline": f"glossary {base:.2f} s",
            "ratio": f"{times[name] / base:.1f}x" if base > 0 else "-"})
    rows.append({"benchmark": "app process, peak memory after every page (goal < 4 GB)",
                 "users": users, "figure": "–" if memory is None else f"{memory[0]:.2f} GB",
                 "baseline": "–" if memory is None else f"{memory[1]:.2f} GB held at the end",
                 "ratio": "-"})
    return rows
