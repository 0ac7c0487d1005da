"""Access in a real browser (issue 8): the password mode, direct URLs, injection, phones.

One server per module with the shared password configured (PROFIT_SECRETS -> a temp
secrets.toml) over a copy of the demo business. Every WebSocket frame the browser
receives is kept, so "no full phone number" is checked on everything the server sent
(dataframes arrive as Arrow bytes drawn on a canvas, charts as JSON), not only the HTML.
"""

from __future__ import annotations

import contextlib
import io
import re
import shutil
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import duckdb
import pytest
from playwright.sync_api import expect

from tests.auth_fixtures import ADMIN_PASSWORD, TEAM_PASSWORD, write_password_secrets
from tests.browser import chromium_page, screenshot, streamlit_server, wait_for_app

pytestmark = pytest.mark.browser

PAGES = ["Daily", "Weekly", "Monthly", "Users", "What-if", "Data"]
INJECTIONS = ["' OR 1=1 --", "'; DROP TABLE cost_events; --"]
TABLES = ["cost_events", "revenue_events", "token_balances", "affiliate_events", "load_log",
          "rejected_rows"]
FIGURE_TESTIDS = ["stMetric", "stDataFrame", "stTable", "stPlotlyChart", "stVegaLiteChart",
                  "stSidebar", "stDownloadButton"]


class App:
    def __init__(self, url: str, db: Path, log_dir: Path, audit_log: Path) -> None:
        self.url, self.db, self.log_dir, self.audit_log = url, db, log_dir, audit_log
        con = duckdb.connect(str(db), read_only=True)
        try:
            ids = [r[0] for r in con.execute(
                "SELECT DISTINCT user_id FROM cost_events UNION "
                "SELECT DISTINCT user_id FROM revenue_events").fetchall()]
        finally:
            con.close()
        # The full number with and without its +: either would be a leak.
        self.phones = sorted({p for i in ids for p in (i, i.lstrip("+"))})
        self._phone_re = re.compile("|".join(re.escape(p) for p in self.phones))

    def leaks(self, text: str | bytes) -> list[str]:
        if isinstance(text, bytes):
            text = text.decode("utf-8", errors="replace")
        return sorted(set(self._phone_re.findall(text)))


def row_counts(db: Path) -> dict[str, int]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
    finally:
        con.close()


@pytest.fixture(scope="module")
def app(demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    work = tmp_path_factory.mktemp("auth_browser")
    db = work / "demo.duckdb"
    shutil.copy(demo_db, db)  # a copy: "change nothing" is checked on this file alone
    conf = write_password_secrets(work)
    env = {"PROFIT_DB": str(db), "PROFIT_SECRETS": str(conf.path),
           "PROFIT_AUDIT_LOG": str(conf.audit_log)}
    with streamlit_server(env, work) as url:
        yield App(url, db, work, conf.audit_log)


@pytest.fixture
def browser_page() -> Iterator[tuple[object, list[bytes | str]]]:
    """A Chromium page, and every WebSocket frame the server sends to it."""
    frames: list[bytes | str] = []
    with chromium_page() as page:
        page.on("websocket", lambda ws: ws.on("framereceived", lambda f: frames.append(f)))
        yield page, frames


def open_form(page: object, url: str) -> None:
    page.goto(url)
    wait_for_app(page)
    page.get_by_role("textbox", name="Password").wait_for(timeout=30_000)


def sign_in(page: object, password: str, name: str = "tester", *, ok: bool = True) -> None:
    """Submit the form, then wait for its outcome: the sidebar of a signed-in session, or
    an alert under the form (a busy machine can take seconds to rerun)."""
    page.get_by_role("textbox", name="Your name").fill(name)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    if ok:
        expect(page.locator('[data-testid="stSidebar"]')).to_contain_text("Signed in as",
                                                                           timeout=180_000)
    else:
        expect(page.locator('[data-testid="stAlert"]')).to_be_visible(timeout=180_000)
    wait_for_app(page, timeout_s=180)


def go_to(page: object, title: str) -> None:
    """Navigate inside the signed-in session (a page.goto would start a new session)."""
    page.locator('[data-testid="stSidebarNav"] a', has_text=title).first.click()
    page.wait_for_timeout(300)
    wait_for_app(page, timeout_s=180)


def assert_only_the_form(page: object) -> None:
    for testid in FIGURE_TESTIDS:
        assert page.locator(f'[data-testid="{testid}"]').count() == 0, testid
    assert page.locator('[data-testid="stForm"]').count() == 1
    main = page.locator('[data-testid="stMain"]').inner_text()
    assert re.search(r"\$\s?\d", main) is None, main  # no money on the page
    assert page.locator("h1").all_inner_texts() == ["Profit dashboard"]


# --- before sign-in ------------------------------------------------------------------


def test_before_sign_in_no_figure_is_in_the_page(app: App, browser_page) -> None:
    page, frames = browser_page
    open_form(page, app.url)
    screenshot(page, "auth-sign-in-form")
    assert_only_the_form(page)
    html = page.content()
    assert 'data-testid="stMetric"' not in html and "stDataFrame" not in html
    assert app.leaks(html) == [] and app.leaks(b"".join(
        f if isinstance(f, bytes) else f.encode() for f in frames)) == []


# Daily is the default page, served at "/" (a path of "daily" is not a page).
@pytest.mark.parametrize("path", ["users", "data", "weekly?week=2026-W10", "what-if",
                                  "monthly", "?day=2026-03-01"])
def test_a_direct_page_url_before_sign_in_shows_only_the_form(app: App, browser_page,
                                                              path: str) -> None:
    page, frames = browser_page
    open_form(page, f"{app.url}/{path}")
    if path == "users":
        screenshot(page, "auth-direct-users-url")
    assert_only_the_form(page)
    sent = b"".join(f if isinstance(f, bytes) else f.encode() for f in frames)
    assert app.leaks(page.content()) == [] and app.leaks(sent) == []
    assert b"Reporting timezone" not in sent  # not even the sidebar footer was sent


def test_a_wrong_password_is_refused(app: App, browser_page) -> None:
    page, _ = browser_page
    open_form(page, app.url)
    sign_in(page, "not-the-password", ok=False)
    screenshot(page, "auth-wrong-password")
    assert "Wrong password." in page.locator('[data-testid="stAlert"]').inner_text()
    assert_only_the_form(page)


def test_the_right_password_shows_the_daily_page(app: App, browser_page) -> None:
    page, _ = browser_page
    open_form(page, app.url)
    sign_in(page, TEAM_PASSWORD, name="Ana")
    screenshot(page, "auth-signed-in-daily")
    assert page.locator('[data-testid="stForm"]').count() == 0
    assert page.locator('[data-testid="stMetric"]').count() > 0  # the Daily cards
    active = page.locator('[data-testid="stSidebarNav"] a[aria-current="page"]')
    assert active.inner_text().strip().endswith("Daily")
    expect(page.locator('[data-testid="stSidebar"]')).to_contain_text("Signed in as Ana")


def test_a_direct_users_url_leads_to_users_after_sign_in(app: App, browser_page) -> None:
    page, _ = browser_page
    open_form(page, f"{app.url}/users")
    sign_in(page, TEAM_PASSWORD)
    assert page.url.rstrip("/").endswith("/users")
    active = page.locator('[data-testid="stSidebarNav"] a[aria-current="page"]')
    assert active.inner_text().strip().endswith("Users")


# --- phones: pages, exports, logs ---------------------------------------------------------


def _download_text(path: Path) -> bytes:
    """A download's searchable bytes: xlsx unzipped, PDF streams inflated, others as is."""
    data = path.read_bytes()
    if data[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return b"\n".join(z.read(n) for n in z.namelist())
    if data[:4] == b"%PDF":
        out = [data]
        for m in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
            with contextlib.suppress(zlib.error):  # not every stream is deflated
                out.append(zlib.decompress(m.group(1)))
        return b"\n".join(out)
    return data


def test_no_full_phone_number_on_any_page_export_or_log_without_reveal(app: App,
                                                                        browser_page) -> None:
    page, frames = browser_page
    audit_before = app.audit_log.read_text() if app.audit_log.exists() else ""
    open_form(page, app.url)
    sign_in(page, TEAM_PASSWORD)
    leaks: dict[str, list[str]] = {}
    downloads = 0
    for title in PAGES:
        go_to(page, title)
        screenshot(page, f"auth-no-phones-{title.lower()}")
        found = app.leaks(page.content())
        buttons = page.locator('[data-testid="stDownloadButton"] button')
        for i in range(buttons.count()):
            with page.expect_download(timeout=120_000) as info:
                buttons.nth(i).click()
            found += app.leaks(_download_text(Path(info.value.path())))
            downloads += 1
        if found:
            leaks[title] = sorted(set(found))
    sent = [f if isinstance(f, bytes) else f.encode() for f in frames]
    leaks["websocket"] = app.leaks(b"\n".join(sent))
    for log in app.log_dir.glob("*.log"):
        leaks[log.name] = app.leaks(log.read_bytes())
    assert {k: v for k, v in leaks.items() if v} == {}
    audit_after = app.audit_log.read_text() if app.audit_log.exists() else ""
    assert audit_after == audit_before  # nobody revealed anything
    assert len(sent) > 20  # the pages did send their data: the check above looked at it


# --- inputs are data ---------------------------------------------------------------------


def _phones_ending(app: App, digits: str) -> int:
    return sum(1 for p in app.phones if p.startswith("+") and p.endswith(digits))


def _search(page: object, text: str, shows: str) -> str:
    """Type `text` as a person would (the box keeps at most 15 characters), wait until the
    page shows `shows`; returns the page's text."""
    box = page.locator('[data-testid="stMain"] [data-testid="stTextInput"] input').first
    assert box.count() == 1, "the Users page has no search box"
    box.click()
    box.press("Control+a")
    box.press("Delete")
    page.keyboard.type(text)
    box.press("Enter")
    expect(page.locator('[data-testid="stMain"]')).to_contain_text(shows, timeout=180_000)
    wait_for_app(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    return page.locator('[data-testid="stMain"]').inner_text()


def test_injection_in_the_user_search_finds_nothing_and_changes_nothing(app: App,
                                                                       browser_page) -> None:
    """The search binds only the digits typed: `' OR 1=1 --` is a search for phones
    ending in "11" (never every user), and `'; DROP TABLE cost_events; --` has no digit
    in the 15 characters the box keeps, so it finds nobody. The database is untouched."""
    page, frames = browser_page
    before = row_counts(app.db)
    open_form(page, app.url)
    sign_in(page, TEAM_PASSWORD)
    go_to(page, "Users")

    expected = _phones_ending(app, "11")
    assert 0 < expected < 400
    _search(page, INJECTIONS[0], shows=f"User ({expected:,} found")
    screenshot(page, "auth-injection-search-or")
    assert page.get_by_role("button", name="Reveal full number").count() == 0  # not an admin

    text = _search(page, INJECTIONS[1], shows="at least the last two digits")
    screenshot(page, "auth-injection-search-drop")
    assert "found" not in text

    sent = b"".join(f if isinstance(f, bytes) else f.encode() for f in frames)
    assert app.leaks(page.content()) == [] and app.leaks(sent) == []
    assert row_counts(app.db) == before


@pytest.mark.parametrize("path", ["users", "", "weekly", "monthly", "what-if", "data"])
def test_injection_in_the_query_parameters_finds_nothing_and_changes_nothing(
        app: App, browser_page, path: str) -> None:
    page, frames = browser_page
    before = row_counts(app.db)
    bad = quote(INJECTIONS[0]), quote(INJECTIONS[1])
    query = (f"user={bad[0]}&q={bad[1]}&day={bad[1]}&week={bad[0]}&month={bad[1]}"
             f"&digits={bad[0]}&page={bad[1]}")
    open_form(page, f"{app.url}/{path}?{query}")
    sign_in(page, TEAM_PASSWORD)
    if path == "users":
        screenshot(page, "auth-injection-query-users")
    assert page.locator('[data-testid="stException"]').count() == 0, \
        page.locator('[data-testid="stException"]').first.inner_text()
    sent = b"".join(f if isinstance(f, bytes) else f.encode() for f in frames)
    assert app.leaks(page.content()) == [] and app.leaks(sent) == []
    assert row_counts(app.db) == before


def test_an_admin_reveal_shows_the_number_and_logs_who_when_and_which_user(
        app: App, browser_page) -> None:
    """The one way a full number reaches a page: an admin's reveal, logged before it shows."""
    page, _ = browser_page
    target = next(p for p in app.phones if p.startswith("+"))
    open_form(page, app.url)
    sign_in(page, ADMIN_PASSWORD, name="Boss")
    expect(page.locator('[data-testid="stSidebar"]')).to_contain_text("Signed in as Boss (admin)")
    go_to(page, "Users")
    text = _search(page, target[-8:], shows="User (1 found")
    assert app.leaks(text) == []  # not before the reveal
    page.get_by_role("button", name="Reveal full number").click()
    expect(page.locator('[data-testid="stMain"]')).to_contain_text(f"Full number: {target}",
                                                                   timeout=180_000)
    wait_for_app(page)
    screenshot(page, "auth-admin-reveal")
    lines = [ln for ln in app.audit_log.read_text().splitlines() if 'who="Boss"' in ln]
    assert len(lines) == 1
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ reveal who=\"Boss\" "
                        rf"user=…{target[-4:]} ref=[0-9a-f]{{16}}", lines[0])
    assert app.leaks(app.audit_log.read_text()) == []  # the log names the user, not the number
