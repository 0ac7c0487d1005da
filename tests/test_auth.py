"""Access: who may see the numbers (issue 8). Pure rules first, then the app through AppTest."""

from __future__ import annotations

import io
import logging
import subprocess
import sys
from pathlib import Path

import pytest
from streamlit import config as st_config
from streamlit.testing.v1 import AppTest

from core import audit, secrecy
from dashboard import auth, uploads
from tests.auth_fixtures import (
    ADMIN_PASSWORD,
    TEAM_PASSWORD,
    PasswordSecrets,
    use_password_secrets,
)

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "dashboard" / "app.py"
FAST = {"n": 2**10, "r": 8, "p": 1}


@pytest.fixture
def password_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> PasswordSecrets:
    return use_password_secrets(tmp_path, monkeypatch)


# --- hashing -------------------------------------------------------------------------


def test_hash_verifies_the_right_password_and_refuses_a_wrong_one() -> None:
    stored = auth.hash_password("s3cret-pass-word", **FAST)
    assert auth.verify_password("s3cret-pass-word", stored) is True
    assert auth.verify_password("s3cret-pass-wore", stored) is False
    assert auth.verify_password("", stored) is False


def test_hash_is_salted_so_the_same_password_hashes_differently() -> None:
    assert auth.hash_password("same-password", **FAST) != auth.hash_password("same-password",
                                                                             **FAST)


def test_hash_line_has_scrypt_n_r_p_salt_and_hash() -> None:
    parts = auth.hash_password("pw-for-format", salt=b"0123456789abcdef", **FAST).split("$")
    assert parts[:4] == ["scrypt", "1024", "8", "1"]
    assert parts[4] == "MDEyMzQ1Njc4OWFiY2RlZg=="  # base64 of the salt
    assert len(parts[5]) == 44  # 32 bytes of scrypt output


def test_default_hash_cost_is_n_2_to_15() -> None:
    assert auth.hash_password("default-cost").split("$")[1] == str(2**15)


def test_verify_compares_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = auth.hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(auth.hmac, "compare_digest", spy)
    stored = auth.hash_password("constant-time", **FAST)
    assert auth.verify_password("wrong-guess", stored) is False
    assert len(calls) == 1 and len(calls[0][0]) == 32


def test_malformed_hash_is_refused_without_repeating_it() -> None:
    with pytest.raises(ValueError) as err:
        auth.verify_password("x", "plaintext-password-in-secrets")
    assert "plaintext-password-in-secrets" not in str(err.value)
    assert "hash-password" in str(err.value)


def test_hash_with_absurd_cost_is_refused() -> None:
    stored = auth.hash_password("x-password", **FAST).replace("$1024$", f"${2**24}$")
    with pytest.raises(ValueError):
        auth.verify_password("x-password", stored)


def test_hash_password_command_prints_a_line_that_verifies() -> None:
    out = subprocess.run([sys.executable, "-m", "dashboard.auth", "hash-password"],
                         input="a-long-team-password\n", capture_output=True, text=True,
                         cwd=ROOT, check=True).stdout.strip()
    key, _, value = out.partition(" = ")
    assert key == "password_hash"
    assert auth.verify_password("a-long-team-password", value.strip('"'))
    assert "a-long-team-password" not in out


def test_hash_password_command_admin_flag_names_the_admin_key(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("a-long-admin-password\n"))
    assert auth.main(["hash-password", "--admin"]) == 0
    assert capsys.readouterr().out.startswith('admin_password_hash = "scrypt$')


def test_hash_password_command_refuses_a_short_password(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("short\n"))
    assert auth.main(["hash-password"]) == 2
    assert capsys.readouterr().out == ""


# --- lock-out ------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_five_failures_lock_sign_in_for_sixty_seconds() -> None:
    clock = Clock()
    lock = auth.LockOut(clock=clock)
    for _ in range(4):
        lock.failed()
    assert lock.remaining() == 0.0  # four failures: still allowed
    lock.failed()
    assert lock.remaining() == 60.0
    clock.now += 59.5
    assert lock.remaining() == pytest.approx(0.5)
    clock.now += 0.5
    assert lock.remaining() == 0.0


def test_success_resets_the_failure_count() -> None:
    lock = auth.LockOut(clock=Clock())
    for _ in range(4):
        lock.failed()
    lock.succeeded()
    for _ in range(4):
        lock.failed()
    assert lock.remaining() == 0.0  # 4 + reset + 4: never five in a row


def test_right_password_is_refused_while_locked_out() -> None:
    clock = Clock()
    conf = {"access": {"password_hash": auth.hash_password(TEAM_PASSWORD, **FAST)}}
    lock = auth.LockOut(clock=clock)
    outcomes = [auth.check_password(conf, "guess", lock)[0] for _ in range(5)]
    assert outcomes == ["wrong"] * 5
    assert auth.check_password(conf, TEAM_PASSWORD, lock) == ("locked", 60.0)
    clock.now += 60
    assert auth.check_password(conf, TEAM_PASSWORD, lock) == ("ok", 0.0)


def test_admin_password_signs_in_as_admin_and_team_password_does_not() -> None:
    conf = {"access": {"password_hash": auth.hash_password(TEAM_PASSWORD, **FAST),
                       "admin_password_hash": auth.hash_password(ADMIN_PASSWORD, **FAST)}}
    lock = auth.LockOut(clock=Clock())
    assert auth.check_password(conf, ADMIN_PASSWORD, lock)[0] == "admin"
    assert auth.check_password(conf, TEAM_PASSWORD, lock)[0] == "ok"


# --- mode, allow-list, localhost -------------------------------------------------------


def test_mode_is_oidc_with_auth_password_with_a_hash_and_local_otherwise() -> None:
    hashed = {"access": {"password_hash": "scrypt$..."}}
    assert auth.mode({}) == "local"
    assert auth.mode({"access": {"allowed_emails": ["a@b.c"]}}) == "local"
    assert auth.mode(hashed) == "password"
    assert auth.mode({"auth": {"client_id": "x"}}) == "oidc"
    assert auth.mode({"auth": {"client_id": "x"}, **hashed}) == "oidc"  # [auth] wins
    assert auth.mode({"auth": {}}) == "local"  # an empty [auth] configures nothing


def test_allow_list_takes_exact_addresses_and_whole_domains() -> None:
    allowed = ["Founder@Example.com", "@team.example.org"]
    assert auth.email_allowed("founder@example.com", allowed)
    assert auth.email_allowed("anyone@team.example.org", allowed)
    assert not auth.email_allowed("other@example.com", allowed)
    assert not auth.email_allowed("x@team.example.org.evil.com", allowed)
    assert not auth.email_allowed("x@evilteam.example.org", allowed)
    assert not auth.email_allowed("", allowed)
    assert not auth.email_allowed("founder@example.com", [])  # empty list: nobody


@pytest.mark.parametrize(("address", "headers", "local"), [
    ("localhost", {"Host": "localhost:8501"}, True),
    ("127.0.0.1", {"Host": "127.0.0.1:8501"}, True),
    ("::1", {"Host": "[::1]:8501"}, True),
    ("localhost", {}, True),
    ("0.0.0.0", {"Host": "localhost:8501"}, False),
    ("", {"Host": "localhost:8501"}, False),  # unset address binds every interface
    ("localhost", {"Host": "dashboard.example.com"}, False),
    ("localhost", {"Host": "localhost:8501", "X-Forwarded-For": "203.0.113.9"}, False),
])
def test_without_sign_in_only_localhost_is_served(address: str, headers: dict, local: bool
                                                  ) -> None:
    assert (auth.local_only_problem(address, headers) is None) is local


# --- audit log and redaction -----------------------------------------------------------


def test_reveal_is_logged_with_who_when_and_masked_user(tmp_path: Path) -> None:
    log = tmp_path / "audit.log"
    line = audit.log_reveal("alice", "+15551230001", path=log)
    text = log.read_text()
    assert line in text and 'who="alice"' in text and "user=…0001" in text
    assert "+15551230001" not in text and "15551230001" not in text
    ref = line.rsplit("ref=", 1)[1]
    assert audit.find_ref(ref, ["+15551239999", "+15551230001"], log_path=log) == "+15551230001"
    assert (tmp_path / "audit.key").stat().st_mode & 0o077 == 0  # key readable by owner only


def test_secret_values_and_redact_hide_keys_hashes_and_url_passwords() -> None:
    conf = {"aws": {"aws_secret_access_key": "AWSSECRET123456"},
            "access": {"password_hash": "scrypt$1$2$3$c2FsdA==$aGFzaA=="},
            "database": {"path": "data/profit.duckdb", "url": "postgresql://u:pgpass99@h/d"},
            "reporting": {"timezone": "Europe/Paris"}}
    values = secrecy.secret_values(conf)
    text = ("key AWSSECRET123456 hash scrypt$1$2$3$c2FsdA==$aGFzaA== url "
            "postgresql://u:pgpass99@h/d other mysql://x:y2k@host/db tz Europe/Paris")
    out = secrecy.redact(text, values)
    for secret in ("AWSSECRET123456", "scrypt$1$2", "pgpass99", "y2k@"):
        assert secret not in out
    assert "Europe/Paris" in out  # not a secret: left alone
    assert secrecy.safe_url("postgresql://u:pgpass99@h:5432/d") == "postgresql://u:***@h:5432/d"


def test_log_redaction_removes_secrets_from_messages_and_tracebacks(tmp_path: Path) -> None:
    logger = logging.getLogger("streamlit.test_redaction")
    handler = logging.FileHandler(tmp_path / "app.log")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        secrecy.install_log_redaction(["AWSSECRET123456"])
        logger.error("loading with key %s", "AWSSECRET123456")
        try:
            raise RuntimeError("connect failed for AWSSECRET123456")
        except RuntimeError:
            logger.exception("boom")
        handler.flush()
    finally:
        logger.removeHandler(handler)
    text = (tmp_path / "app.log").read_text()
    assert "AWSSECRET123456" not in text
    # the message, the exception line and the source line the traceback quotes
    assert text.count("***") == 3 and "RuntimeError: connect failed for ***" in text


# --- uploads ---------------------------------------------------------------------------


class Upload:
    """What st.file_uploader returns, reduced to what the helper reads."""

    def __init__(self, data: bytes, name: str = "policy.toml") -> None:
        self.data, self.name, self.size = data, name, len(data)

    def getvalue(self) -> bytes:
        return self.data


def test_valid_toml_upload_is_returned_as_text() -> None:
    assert uploads.read_policy_upload(Upload(b'[levels]\nfree = 10\n')) == '[levels]\nfree = 10\n'


def test_upload_over_the_size_limit_is_refused() -> None:
    with pytest.raises(ValueError, match="64,000 bytes"):
        uploads.read_policy_upload(Upload(b"# pad\n" * 20_000))


def test_upload_that_is_not_toml_is_refused() -> None:
    with pytest.raises(ValueError, match="not valid TOML"):
        uploads.read_policy_upload(Upload(b"[levels]\nfree = ' OR 1=1 --\n"))


def test_upload_that_is_not_utf8_is_refused() -> None:
    with pytest.raises(ValueError, match="UTF-8"):
        uploads.read_policy_upload(Upload(b"\xff\xfe[levels]"))


def test_no_upload_is_refused() -> None:
    with pytest.raises(ValueError, match="no file"):
        uploads.read_policy_upload(None)


# --- the gate in the app (AppTest) -------------------------------------------------------


def _app(db: Path | None = None, monkeypatch: pytest.MonkeyPatch | None = None) -> AppTest:
    if db is not None and monkeypatch is not None:
        monkeypatch.setenv("PROFIT_DB", str(db))
    return AppTest.from_file(str(APP), default_timeout=60)


def _texts(at: AppTest) -> str:
    """Everything the run put on the page, main area and sidebar, as one string."""
    parts = [str(getattr(el, "value", "")) for el in at.main] + [
        str(getattr(el, "value", "")) for el in at.sidebar]
    for kind in ("title", "markdown", "caption", "error", "info", "metric", "dataframe",
                 "table", "text", "header", "subheader"):
        parts += [str(getattr(el, "value", "")) for el in getattr(at, kind)]
    return "\n".join(parts)


def _sign_in(at: AppTest, password: str, name: str = "tester") -> AppTest:
    at.text_input[0].input(name)
    at.text_input[1].input(password)
    return at.button[0].click().run()


def test_before_sign_in_only_the_form_renders(password_secrets: PasswordSecrets,
                                              demo_db: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    at = _app(demo_db, monkeypatch).run()
    assert not at.exception
    assert [t.value for t in at.title] == ["Profit dashboard"]
    assert [t.label for t in at.text_input] == ["Your name", "Password"]
    assert len(at.metric) == 0 and len(at.dataframe) == 0 and len(at.sidebar) == 0
    assert "Reporting timezone" not in _texts(at)  # not even the sidebar footer


def test_wrong_password_is_refused(password_secrets: PasswordSecrets, demo_db: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    at = _sign_in(_app(demo_db, monkeypatch).run(), "not-the-password")
    assert [e.value for e in at.error] == ["Wrong password."]
    assert [t.label for t in at.text_input] == ["Your name", "Password"]
    assert "_profit_viewer" not in at.session_state


def test_right_password_opens_the_daily_page(password_secrets: PasswordSecrets,
                                             demo_db: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    at = _sign_in(_app(demo_db, monkeypatch).run(), TEAM_PASSWORD, name="Ana")
    assert not at.exception
    assert not [e.value for e in at.error if "sign-in" in e.value or "password" in e.value]
    viewer = at.session_state["_profit_viewer"]
    assert (viewer.name, viewer.admin, viewer.mode) == ("Ana", False, "password")
    assert "Signed in as **Ana**" in _texts(at)
    assert len(at.metric) > 0  # the Daily page's headline cards are on the page now
    assert "Your name" not in [t.label for t in at.text_input]


def test_admin_password_signs_in_an_admin(password_secrets: PasswordSecrets, demo_db: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    at = _sign_in(_app(demo_db, monkeypatch).run(), ADMIN_PASSWORD, name="Boss")
    assert at.session_state["_profit_viewer"].admin is True
    assert "Signed in as **Boss** (admin)" in _texts(at)


def test_five_wrong_passwords_lock_out_even_the_right_one(password_secrets: PasswordSecrets,
                                                          demo_db: Path,
                                                          monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    at = _app(demo_db, monkeypatch).run()
    for _ in range(5):
        at = _sign_in(at, "guess")
    assert at.error[0].value.startswith("Too many wrong passwords")
    at = _sign_in(at, TEAM_PASSWORD)
    assert at.error[0].value.startswith("Too many wrong passwords")
    assert "_profit_viewer" not in at.session_state


def test_sign_out_returns_to_the_form(password_secrets: PasswordSecrets, demo_db: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    at = _sign_in(_app(demo_db, monkeypatch).run(), TEAM_PASSWORD)
    at.sidebar.button(key="_sign_out").click().run()
    assert [t.label for t in at.text_input] == ["Your name", "Password"]
    assert len(at.sidebar) == 0


def test_no_sign_in_on_localhost_says_so_in_the_sidebar(tmp_path: Path, demo_db: Path,
                                                        monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    monkeypatch.setenv("PROFIT_SECRETS", str(tmp_path / "none.toml"))
    at = _app(demo_db, monkeypatch).run()
    assert not at.exception
    assert not [e.value for e in at.error if "sign-in" in e.value or "password" in e.value]
    assert "serving on this machine only (localhost)" in _texts(at)


def test_no_sign_in_on_another_address_shows_an_error_and_no_data(
        tmp_path: Path, demo_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROFIT_SECRETS", str(tmp_path / "none.toml"))
    before = st_config.get_option("server.address")
    st_config.set_option("server.address", "0.0.0.0")
    try:
        at = _app(demo_db, monkeypatch).run()
    finally:
        st_config.set_option("server.address", before)
    assert len(at.error) == 1 and "No sign-in is configured" in at.error[0].value
    assert len(at.metric) == 0 and len(at.dataframe) == 0 and len(at.title) == 0
    assert "Reporting timezone" not in _texts(at)


def test_no_sign_in_requested_by_a_public_host_name_is_refused(
        tmp_path: Path, demo_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROFIT_SECRETS", str(tmp_path / "none.toml"))
    monkeypatch.setattr(auth, "_headers", lambda: {"Host": "dashboard.example.com"})
    at = _app(demo_db, monkeypatch).run()
    assert len(at.error) == 1 and "dashboard.example.com" in at.error[0].value
    assert len(at.metric) == 0 and len(at.title) == 0


def _oidc_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "secrets.toml"
    path.write_text('[auth]\nredirect_uri = "http://localhost:8501/oauth2callback"\n'
                    'cookie_secret = "cookie-secret-value"\nclient_id = "id"\n'
                    'client_secret = "oidc-client-secret"\n'
                    'server_metadata_url = "https://idp.example.com/.well-known/openid-configuration"\n'
                    '[access]\nallowed_emails = ["founder@example.com", "@team.example.com"]\n'
                    'admins = ["founder@example.com"]\n')
    monkeypatch.setenv("PROFIT_SECRETS", str(path))
    monkeypatch.setattr("streamlit.auth_util.is_authlib_installed", lambda: True)


def test_oidc_allow_listed_admin_gets_in_and_may_reveal(tmp_path: Path, demo_db: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    _oidc_secrets(tmp_path, monkeypatch)
    at = _app(demo_db, monkeypatch)
    at.user = {"is_logged_in": True, "email": "Founder@example.com"}
    at.run()
    viewer = at.session_state["_profit_viewer"]
    assert (viewer.name, viewer.admin, viewer.mode) == ("Founder@example.com", True, "oidc")


def test_oidc_domain_member_gets_in_but_is_not_admin(tmp_path: Path, demo_db: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    _oidc_secrets(tmp_path, monkeypatch)
    at = _app(demo_db, monkeypatch)
    at.user = {"is_logged_in": True, "email": "dev@team.example.com"}
    at.run()
    assert at.session_state["_profit_viewer"].admin is False


def test_oidc_account_not_on_the_allow_list_sees_no_data(tmp_path: Path, demo_db: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    _oidc_secrets(tmp_path, monkeypatch)
    at = _app(demo_db, monkeypatch)
    at.user = {"is_logged_in": True, "email": "stranger@gmail.com"}
    at.run()
    assert "stranger@gmail.com is not allowed" in at.error[0].value
    assert "_profit_viewer" not in at.session_state
    assert len(at.metric) == 0 and len(at.sidebar) == 0


def test_oidc_not_logged_in_shows_only_a_sign_in_button(tmp_path: Path, demo_db: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    _oidc_secrets(tmp_path, monkeypatch)
    at = _app(demo_db, monkeypatch)
    at.user = {"is_logged_in": False}
    at.run()
    assert "_profit_viewer" not in at.session_state
    assert len(at.metric) == 0 and len(at.sidebar) == 0
    texts = _texts(at)
    assert "oidc-client-secret" not in texts and "cookie-secret-value" not in texts


def test_oidc_without_authlib_says_which_package_to_install(tmp_path: Path, demo_db: Path,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    _oidc_secrets(tmp_path, monkeypatch)
    monkeypatch.setattr("streamlit.auth_util.is_authlib_installed", lambda: False)
    at = _app(demo_db, monkeypatch)
    at.user = {"is_logged_in": True, "email": "founder@example.com"}
    at.run()
    assert "Authlib" in at.error[0].value
    assert "_profit_viewer" not in at.session_state


def test_oidc_without_httpx_says_which_package_to_install(tmp_path: Path, demo_db: Path,
                                                         monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    """Authlib's Starlette client imports httpx2 (or httpx) only at /auth/login: without
    one the Sign in button led to a server error (found against a real provider)."""
    _oidc_secrets(tmp_path, monkeypatch)
    monkeypatch.setattr(auth, "_installed", lambda module: module not in ("httpx2", "httpx"))
    at = _app(demo_db, monkeypatch)
    at.user = {"is_logged_in": False}
    at.run()
    assert [e.value for e in at.error] == [
        "Sign-in with `[auth]` needs httpx2: `pip install httpx2==2.16.2`."]
    assert len(at.button) == 0  # no Sign in button that would fail
    assert auth.oidc_missing_packages() == ["httpx2==2.16.2"]
    monkeypatch.setattr(auth, "_installed", lambda module: module == "httpx")
    assert auth.oidc_missing_packages() == []  # the older httpx still serves Authlib 1.9


def test_oidc_unverified_email_on_an_allowed_domain_sees_no_data_nor_page_list(
        tmp_path: Path, demo_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The gate refused it, but the page list used to be shown (found with a real provider)."""
    _oidc_secrets(tmp_path, monkeypatch)
    positions: list[str] = []
    real = auth.nav_position
    monkeypatch.setattr(auth, "nav_position", lambda: positions.append(real()) or positions[-1])
    at = _app(demo_db, monkeypatch)
    at.user = {"is_logged_in": True, "email": "new@team.example.com", "email_verified": False}
    at.run()
    assert "new@team.example.com is not allowed" in at.error[0].value
    assert "_profit_viewer" not in at.session_state
    assert len(at.metric) == 0 and len(at.sidebar) == 0
    assert positions == ["hidden"]  # st.navigation got position="hidden": no page list
