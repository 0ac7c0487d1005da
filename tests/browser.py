"""A real app in a real browser, as Streamlit's own e2e tests do it.

`streamlit_server(env)` starts `streamlit run dashboard/server.py` on a free port
(headless, no file watcher, output to a file) and polls `/_stcore/health`;
`chromium_page()` opens Debian's Chromium through Playwright; `wait_for_app(page)`
waits until the script has finished running and no skeleton is left.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def streamlit_server(env: dict[str, str], log_dir: Path, *, address: str = "127.0.0.1",
                     port: int | None = None, args: Sequence[str] = ()) -> Iterator[str]:
    """Serve the app with `env` added to the environment; yields its base URL.

    `port` when the caller must know it first (an OIDC redirect URI names it); `args` are
    more `streamlit run` options (e.g. `--secrets.files`)."""
    port = port or free_port()
    log = (log_dir / f"streamlit-{port}.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "dashboard" / "server.py"),
         "--server.headless", "true", "--server.fileWatcherType", "none",
         "--server.port", str(port), "--server.address", address,
         "--browser.gatherUsageStats", "false", *args],
        cwd=ROOT, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                raise RuntimeError("streamlit did not start:\n" +
                                   (log_dir / f"streamlit-{port}.log").read_text()[-3000:])
            time.sleep(0.25)
        yield url
    finally:
        stop(proc, log)


def stop(proc: subprocess.Popen, log: object) -> None:
    """End a server a test started (kill it if it will not stop) and close its log."""
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


def require_chromium() -> str:
    """Debian's Chromium, or a failure that says how to get it (never a skip)."""
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        raise RuntimeError("browser tests need Debian's chromium: apt-get install chromium "
                           "(.ci/run installs it)")
    return CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")


@contextlib.contextmanager
def chromium_page(width: int = 1400, height: int = 1000) -> Iterator[object]:
    """A Playwright page in headless Debian Chromium."""
    from playwright.sync_api import sync_playwright

    executable = require_chromium()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            yield page
        finally:
            browser.close()


def wait_for_app(page: object, timeout_s: float = 60) -> None:
    """Wait until the script run is over, as Streamlit's own e2e tests do.

    The root element publishes its state: connected, and the script `notRunning`;
    then no loading skeleton may be left.
    """
    ms = timeout_s * 1000
    page.wait_for_timeout(250)
    page.locator("[data-testid='stApp'][data-test-connection-state='CONNECTED']").wait_for(
        state="attached", timeout=ms)
    page.locator("[data-testid='stApp'][data-test-script-state='notRunning']").wait_for(
        state="attached", timeout=ms)
    deadline = time.monotonic() + timeout_s
    while page.locator("[data-testid='stSkeleton']").count():
        if time.monotonic() > deadline:
            raise TimeoutError("loading skeletons never went away")
        page.wait_for_timeout(100)
    page.wait_for_timeout(300)


def screenshot(page: object, name: str) -> Path:
    """Save a full-page screenshot under tests/artifacts/ for a person to look at."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    # Streamlit scrolls inside its own container, so grow the viewport to the content.
    size = page.viewport_size
    height = page.evaluate(
        "() => Math.max(...[...document.querySelectorAll("
        "'[data-testid=\"stMain\"], [data-testid=\"stAppViewContainer\"], section')]"
        ".map(e => e.scrollHeight), document.body.scrollHeight)")
    page.set_viewport_size({"width": size["width"], "height": min(int(height) + 40, 12000)})
    page.wait_for_timeout(500)
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size(size)
    return path
