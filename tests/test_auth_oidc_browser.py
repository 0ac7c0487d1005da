"""Company sign-in against a real OpenID Connect provider, in a real browser (issue 16, 8).

One provider (panva's `oidc-provider` under Node, tests/oidc/) and one `streamlit run`
per module, both on 127.0.0.1. The app's secrets name the provider's discovery URL in
`[auth]`, exactly as a company's would, and `[access] allowed_emails` admits one address,
one domain, and nobody else. The browser clicks Sign in, fills the provider's own login
page and comes back through `/oauth2callback`, so authlib, the ID token, Streamlit's
signed `_streamlit_user` cookie and the app's allow-list all run for real.

The app is browsed as http://localhost:PORT, the origin of the redirect URI: Streamlit
accepts the identity cookie only on the websocket of that origin.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from playwright.sync_api import expect

from core import settings
from dashboard import ui
from loaders.publish import connect_read_only
from queries import kpis as K
from tests.browser import chromium_page, free_port, screenshot, streamlit_server, wait_for_app
from tests.oidc_fixtures import Account, Client, oidc_provider, require_node

pytestmark = pytest.mark.browser

FOUNDER = Account("founder@example.com", "founder-pass-1", "Founder")  # listed, admin
DEV = Account("dev@team.example.com", "dev-pass-2", "Dev")  # admitted by its domain
STRANGER = Account("stranger@example.org", "stranger-pass-3", "Stranger")  # not listed
UNVERIFIED = Account("new@team.example.com", "new-pass-4", "New", email_verified=False)
COOKIE = "_streamlit_user"  # Streamlit's signed identity cookie
COOKIE_DAYS = 30  # its Max-Age; Streamlit accepts a signature up to one day older
FIGURE_TESTIDS = ["stMetric", "stDataFrame", "stTable", "stPlotlyChart", "stVegaLiteChart",
                  "stDownloadButton", "stSidebarNav"]


@dataclass(frozen=True)
class App:
    url: str  # http://localhost:PORT
    issuer: str  # http://127.0.0.1:PORT of the provider
    cookie_secret: str
    db: Path
    log_dir: Path


@pytest.fixture(scope="module")
def app(demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    work = tmp_path_factory.mktemp("oidc")
    port = free_port()
    client = Client("profit-dashboard", "client-secret-for-tests",
                    f"http://localhost:{port}/oauth2callback")
    cookie_secret = "cookie-secret-for-tests-0123456789abcdef"
    with oidc_provider(client, [FOUNDER, DEV, STRANGER, UNVERIFIED], work) as issuer:
        secrets = work / "secrets.toml"
        secrets.write_text(
            "[auth]\n"
            f'redirect_uri = "{client.redirect_uri}"\n'
            f'cookie_secret = "{cookie_secret}"\n'
            f'client_id = "{client.client_id}"\n'
            f'client_secret = "{client.client_secret}"\n'
            f'server_metadata_url = "{issuer}/.well-known/openid-configuration"\n'
            "[access]\n"
            f'allowed_emails = ["{FOUNDER.email}", "@team.example.com"]\n'
            f'admins = ["{FOUNDER.email}"]\n')
        # The app reads [access] from PROFIT_SECRETS; st.login reads [auth] from
        # st.secrets: one file for both, as .streamlit/secrets.toml would be.
        env = {"PROFIT_DB": str(demo_db), "PROFIT_SECRETS": str(secrets),
               "PROFIT_AUDIT_LOG": str(work / "audit.log")}
        with streamlit_server(env, work, port=port, args=["--secrets.files", str(secrets)]):
            yield App(f"http://localhost:{port}", issuer, cookie_secret, demo_db, work)


@pytest.fixture
def page() -> Iterator[object]:
    with chromium_page() as p:
        yield p


# --- what the browser does --------------------------------------------------------------


def open_sign_in(page: object, app: App) -> None:
    """The app's own sign-in screen: a title and one Sign in button, nothing else."""
    page.goto(app.url)
    wait_for_app(page)
    expect(page.get_by_role("button", name="Sign in")).to_be_visible(timeout=60_000)


def sign_in_at_provider(page: object, app: App, account: Account) -> None:
    """Click Sign in, wait for the provider's login page, sign in there, come back."""
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{app.issuer}/interaction/**", timeout=60_000)
    expect(page.get_by_role("heading", name="Company sign-in")).to_be_visible()
    page.get_by_label("Email").fill(account.email)
    page.get_by_label("Password").fill(account.password)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{app.url}/**", timeout=60_000)
    wait_for_app(page, timeout_s=180)


def identity_cookie(page: object) -> dict:
    cookies = [c for c in page.context.cookies() if c["name"] == COOKIE]
    assert len(cookies) <= 1, cookies
    return cookies[0] if cookies else {}


def set_identity_cookie(page: object, app: App, value: str) -> None:
    """Put `value` in the browser as the identity cookie, where Streamlit set it."""
    page.context.add_cookies([{"name": COOKIE, "value": value, "url": app.url,
                               "httpOnly": True, "sameSite": "Lax"}])


def sign(secret: str, value: str, *, days_ago: float = 0) -> str:
    """Sign `value` as Streamlit signs the identity cookie (itsdangerous, salted with the
    cookie's name), dated `days_ago`."""
    issued = int(time.time() - days_ago * 86_400)

    class Dated(TimestampSigner):
        def get_timestamp(self) -> int:
            return issued

    return URLSafeTimedSerializer(secret, salt=COOKIE, signer=Dated).dumps(value)


def unsign(secret: str, cookie: str) -> dict:
    """The identity the cookie carries (the test knows the secret)."""
    return json.loads(URLSafeTimedSerializer(secret, salt=COOKIE).loads(cookie))


def expected_daily(db: Path) -> dict[str, str]:
    """The Daily cards the query layer gives for the latest day (the page's default)."""
    con = connect_read_only(db)
    try:
        _, last = K.data_span(con, "UTC")
        k = K.kpis(con, "day", last.isoformat(), "UTC", settings.policy_path())
    finally:
        con.close()
    return {"Profit": ui.money(k["profit_usd"]), "Revenue": ui.money(k["revenue_usd"]),
            "Cost": ui.money(k["cost_usd"]), "Active users": f"{k['active_users']:,}"}


def shown_cards(page: object) -> dict[str, str]:
    cards = page.locator('[data-testid="stMetric"]')
    out = {}
    for i in range(cards.count()):
        label = cards.nth(i).locator('[data-testid="stMetricLabel"]').inner_text().strip()
        out[label] = cards.nth(i).locator('[data-testid="stMetricValue"]').inner_text().strip()
    return out


def assert_no_figure(page: object) -> None:
    """Nothing of the business on the page: no card, table, chart, export, page list."""
    for testid in FIGURE_TESTIDS:
        assert page.locator(f'[data-testid="{testid}"]').count() == 0, testid
    main = page.locator('[data-testid="stMain"]').inner_text()
    assert re.search(r"\$\s?\d", main) is None, main  # no money
    assert page.locator("h1").all_inner_texts() == ["Profit dashboard"]
    assert "Reporting timezone" not in page.content()  # not even the sidebar footer


def assert_signed_in_on_daily(page: object, app: App, who: str) -> None:
    expect(page.locator('[data-testid="stSidebar"]')).to_contain_text(f"Signed in as {who}")
    active = page.locator('[data-testid="stSidebarNav"] a[aria-current="page"]')
    assert active.inner_text().strip().endswith("Daily")
    expected = expected_daily(app.db)
    assert {k: v for k, v in shown_cards(page).items() if k in expected} == expected


# --- signing in ------------------------------------------------------------------------


def test_sign_in_goes_through_the_providers_login_page_and_lands_on_daily(app: App,
                                                                         page) -> None:
    open_sign_in(page, app)
    screenshot(page, "oidc-app-sign-in")
    assert_no_figure(page)
    assert identity_cookie(page) == {}
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{app.issuer}/interaction/**", timeout=60_000)
    expect(page.get_by_label("Email")).to_be_visible()
    screenshot(page, "oidc-provider-login-page")
    page.get_by_label("Email").fill(FOUNDER.email)
    page.get_by_label("Password").fill(FOUNDER.password)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{app.url}/**", timeout=60_000)
    wait_for_app(page, timeout_s=180)
    screenshot(page, "oidc-signed-in-daily")
    assert_signed_in_on_daily(page, app, f"{FOUNDER.email} (admin)")
    cookie = identity_cookie(page)
    assert cookie["httpOnly"] is True and cookie["domain"] == "localhost"
    identity = unsign(app.cookie_secret, cookie["value"])
    assert (identity["email"], identity["iss"], identity["origin"]) == (
        FOUNDER.email, app.issuer, app.url)


def test_a_domain_member_signs_in_but_is_not_an_admin(app: App, page) -> None:
    open_sign_in(page, app)
    sign_in_at_provider(page, app, DEV)
    assert_signed_in_on_daily(page, app, DEV.email)
    sidebar = page.locator('[data-testid="stSidebar"]').inner_text()
    assert f"Signed in as {DEV.email}\n" in sidebar + "\n" and "(admin)" not in sidebar


def test_a_wrong_password_at_the_provider_does_not_reach_the_app(app: App, page) -> None:
    open_sign_in(page, app)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{app.issuer}/interaction/**", timeout=60_000)
    page.get_by_label("Email").fill(FOUNDER.email)
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("alert")).to_have_text("Wrong email or password.")
    assert page.url.startswith(app.issuer)
    assert identity_cookie(page) == {}


# --- who is refused --------------------------------------------------------------------


def test_an_email_not_on_the_allow_list_is_refused_with_no_figure(app: App, page) -> None:
    frames: list[bytes | str] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda f: frames.append(f)))
    open_sign_in(page, app)
    sign_in_at_provider(page, app, STRANGER)
    screenshot(page, "oidc-refused-stranger")
    alert = page.locator('[data-testid="stAlert"]').inner_text()
    assert f"{STRANGER.email} is not allowed to see this dashboard" in alert
    assert_no_figure(page)
    sent = b"".join(f if isinstance(f, bytes) else f.encode() for f in frames)
    assert b"Reporting timezone" not in sent and b"stMetric" not in sent
    assert unsign(app.cookie_secret, identity_cookie(page)["value"])["email"] == STRANGER.email


def test_an_unverified_email_is_refused_even_on_an_allowed_domain(app: App, page) -> None:
    open_sign_in(page, app)
    sign_in_at_provider(page, app, UNVERIFIED)
    alert = page.locator('[data-testid="stAlert"]').inner_text()
    assert f"{UNVERIFIED.email} is not allowed" in alert
    assert_no_figure(page)


# --- signing out -------------------------------------------------------------------------


def test_sign_out_ends_the_session_here_and_at_the_provider(app: App, page) -> None:
    open_sign_in(page, app)
    sign_in_at_provider(page, app, FOUNDER)
    assert_signed_in_on_daily(page, app, f"{FOUNDER.email} (admin)")
    page.locator('[data-testid="stSidebar"]').get_by_role("button", name="Sign out").click()
    # Streamlit sends the browser to /auth/logout (which deletes the identity cookie), then
    # to the provider's end-session page with the ID token.
    expect(page, "Sign out never left the app: the identity cookie was kept").to_have_url(
        re.compile(re.escape(f"{app.issuer}/session/end")), timeout=30_000)
    screenshot(page, "oidc-provider-sign-out-page")
    page.get_by_role("button", name="Yes, sign me out").click()
    page.wait_for_url(f"{app.url}/**", timeout=60_000)
    wait_for_app(page, timeout_s=180)
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    assert_no_figure(page)
    assert identity_cookie(page) == {}
    page.reload()
    wait_for_app(page)
    screenshot(page, "oidc-after-sign-out-reload")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    assert_no_figure(page)
    # The provider's session ended too: signing in asks for the password again.
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{app.issuer}/interaction/**", timeout=60_000)
    expect(page.get_by_label("Password")).to_be_visible()


def test_a_cookie_copied_before_sign_out_still_opens_the_dashboard(app: App, page) -> None:
    """A limit of st.login, pinned so the README's warning stays true: the identity cookie
    is stateless, so sign-out deletes it from this browser but cannot revoke a copy."""
    open_sign_in(page, app)
    sign_in_at_provider(page, app, DEV)
    copy = identity_cookie(page)["value"]
    page.locator('[data-testid="stSidebar"]').get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(re.escape(f"{app.issuer}/session/end")),
                             timeout=30_000)
    page.get_by_role("button", name="Yes, sign me out").click()
    page.wait_for_url(f"{app.url}/**", timeout=60_000)
    assert identity_cookie(page) == {}
    set_identity_cookie(page, app, copy)
    page.reload()
    wait_for_app(page, timeout_s=180)
    assert_signed_in_on_daily(page, app, DEV.email)


# --- the identity cookie ------------------------------------------------------------------


def test_a_tampered_identity_cookie_is_not_accepted(app: App, page) -> None:
    """The refused stranger rewrites their cookie to claim the founder's email. Without
    the cookie secret the signature no longer matches, and the app shows only sign-in."""
    open_sign_in(page, app)
    sign_in_at_provider(page, app, STRANGER)
    real = identity_cookie(page)["value"]
    identity = unsign(app.cookie_secret, real)
    claimed = json.dumps({**identity, "email": FOUNDER.email})
    # The claim's payload with the real cookie's date and signature (payload.date.sig).
    payload = sign("a-guessed-secret", claimed).rsplit(".", 2)[0]
    tampered = ".".join([payload, *real.rsplit(".", 2)[1:]])
    assert tampered != real
    set_identity_cookie(page, app, tampered)
    page.reload()
    wait_for_app(page)
    screenshot(page, "oidc-tampered-cookie")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    assert_no_figure(page)
    # Control: the same claim signed with the real secret is read, so the refusal above
    # is the signature's doing (and the secret is all that guards the cookie).
    set_identity_cookie(page, app, sign(app.cookie_secret, claimed))
    page.reload()
    wait_for_app(page, timeout_s=180)
    assert_signed_in_on_daily(page, app, f"{FOUNDER.email} (admin)")


def test_an_expired_identity_cookie_is_not_accepted(app: App, page) -> None:
    """A copy of the founder's cookie replayed after its 30 days (the browser has long
    dropped it) is refused; the same copy within its 30 days still opens the dashboard."""
    open_sign_in(page, app)
    sign_in_at_provider(page, app, FOUNDER)
    value = URLSafeTimedSerializer(app.cookie_secret, salt=COOKIE).loads(
        identity_cookie(page)["value"])
    set_identity_cookie(page, app, sign(app.cookie_secret, value, days_ago=COOKIE_DAYS + 2))
    page.reload()
    wait_for_app(page)
    screenshot(page, "oidc-expired-cookie")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    assert_no_figure(page)
    set_identity_cookie(page, app, sign(app.cookie_secret, value, days_ago=COOKIE_DAYS - 1))
    page.reload()
    wait_for_app(page, timeout_s=180)
    assert_signed_in_on_daily(page, app, f"{FOUNDER.email} (admin)")


# --- the tools ----------------------------------------------------------------------------


def test_without_node_the_provider_fails_with_what_to_install(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A machine without Node fails these tests with the fix, never skips them."""
    monkeypatch.setattr("tests.oidc_fixtures.shutil.which", lambda name: None)
    with pytest.raises(RuntimeError, match="apt-get install nodejs npm"):
        require_node()
