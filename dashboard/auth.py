"""Who may see the numbers: the sign-in gate every page passes through first.

The mode is chosen from the secrets, so a founder changes who can see the dashboard
without touching code:

- `oidc`: an `[auth]` section (OpenID Connect) -> Streamlit's `st.login` / `st.user`,
  then an allow-list (`[access] allowed_emails`; an entry `@company.com` admits a domain).
- `password`: `[access] password_hash` -> one shared password, stored as a salted
  scrypt hash made by `python -m dashboard.auth hash-password`, compared in constant
  time, with a lock-out after repeated failures.
- `local`: neither -> no sign-in, so the app refuses to serve anything but localhost.

`require_sign_in()` is called by `dashboard/app.py` before the navigation is built and
before any data is read; until it returns, only the sign-in form is on the page.
"""

from __future__ import annotations

import argparse
import base64
import getpass
import hashlib
import hmac
import importlib.util
import secrets as _random
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import streamlit as st

from core import audit, secrecy, settings

Mode = Literal["oidc", "password", "local"]

LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
LOCK_AFTER_FAILURES = 5
LOCK_SECONDS = 60.0
_SESSION_KEY = "_profit_viewer"

# scrypt cost: n=2**15, r=8 uses 32 MiB and ~0.1 s per guess, which makes an offline
# attack on a leaked hash slow while a sign-in stays instant.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
_SCRYPT_MAXMEM = 256 * 1024 * 1024
_SCRYPT_MAX_N = 2**20  # refuse a hash whose cost would let a typo in the secrets stall sign-in


@dataclass(frozen=True)
class Viewer:
    """Who is looking: `name` goes in the audit log, `admin` may reveal phone numbers."""

    name: str
    admin: bool
    mode: Mode


# --- mode --------------------------------------------------------------------------


def mode(conf: Mapping[str, Any]) -> Mode:
    """Which sign-in the secrets configure. `[auth]` wins over a password."""
    auth = conf.get("auth")
    if isinstance(auth, Mapping) and auth:
        return "oidc"
    if _access(conf).get("password_hash"):
        return "password"
    return "local"


def _access(conf: Mapping[str, Any]) -> Mapping[str, Any]:
    access = conf.get("access", {})
    return access if isinstance(access, Mapping) else {}


# --- password hashing ----------------------------------------------------------------


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def hash_password(password: str, *, salt: bytes | None = None, n: int = SCRYPT_N,
                  r: int = SCRYPT_R, p: int = SCRYPT_P) -> str:
    """`scrypt$n$r$p$salt_b64$hash_b64`: everything needed to verify, nothing to reverse."""
    if not password:
        raise ValueError("the password is empty")
    salt = salt if salt is not None else _random.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p,
                            maxmem=_SCRYPT_MAXMEM, dklen=32)
    return f"scrypt${n}${r}${p}${_b64(salt)}${_b64(digest)}"


def _parse_hash(stored: str) -> tuple[int, int, int, bytes, bytes]:
    """Split a stored hash; the message never repeats the value (it is a secret)."""
    parts = str(stored).strip().split("$")
    try:
        if len(parts) != 6 or parts[0] != "scrypt":
            raise ValueError
        n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
        salt = base64.b64decode(parts[4], validate=True)
        digest = base64.b64decode(parts[5], validate=True)
        if not (2 <= n <= _SCRYPT_MAX_N and n & (n - 1) == 0 and 1 <= r <= 32 and 1 <= p <= 16
                and salt and digest):
            raise ValueError
    except ValueError:
        raise ValueError("the password hash in the secrets is not a `scrypt$n$r$p$salt$hash` "
                         "line: make one with `python -m dashboard.auth hash-password`") from None
    return n, r, p, salt, digest


def verify_password(password: str, stored: str) -> bool:
    """True when `password` matches; the comparison takes the same time wherever it differs."""
    n, r, p, salt, expected = _parse_hash(stored)
    candidate = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p,
                               maxmem=_SCRYPT_MAXMEM, dklen=len(expected))
    return hmac.compare_digest(candidate, expected)


# --- lock-out ------------------------------------------------------------------------


class LockOut:
    """After `limit` failures in a row, refuse every attempt for `seconds`.

    One per server process (held in `st.cache_resource`), shared by every visitor: a
    guesser gets at most `limit` tries a minute however many browsers they open. The
    cost is that a guesser can keep the team waiting; behind a shared password that
    is the safer side to fail on.
    """

    def __init__(self, limit: int = LOCK_AFTER_FAILURES, seconds: float = LOCK_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.seconds, self.clock = limit, seconds, clock
        self._failures = 0
        self._until = 0.0
        self._lock = threading.Lock()

    def remaining(self) -> float:
        """Seconds until the next attempt is allowed (0 when it is allowed now)."""
        with self._lock:
            return max(0.0, self._until - self.clock())

    def failed(self) -> None:
        with self._lock:
            self._failures += 1
            if self._failures >= self.limit:
                self._until = self.clock() + self.seconds
                self._failures = 0

    def succeeded(self) -> None:
        with self._lock:
            self._failures = 0


@st.cache_resource(show_spinner=False)
def _lockout() -> LockOut:
    return LockOut()


def check_password(conf: Mapping[str, Any], password: str, lockout: LockOut
                   ) -> tuple[Literal["ok", "admin", "wrong", "locked"], float]:
    """Decide one sign-in attempt: `(outcome, seconds still locked)`. No Streamlit here."""
    wait = lockout.remaining()
    if wait > 0:
        return "locked", wait
    access = _access(conf)
    admin_hash = access.get("admin_password_hash")
    # Check both hashes every time, so the timing does not tell which one exists.
    is_admin = bool(admin_hash) and verify_password(password, str(admin_hash))
    is_user = verify_password(password, str(access["password_hash"]))
    if is_admin or is_user:
        lockout.succeeded()
        return ("admin" if is_admin else "ok"), 0.0
    lockout.failed()
    return "wrong", lockout.remaining()


# --- who may come in (OIDC) ---------------------------------------------------------


def email_allowed(email: str, allowed: list[str] | tuple[str, ...]) -> bool:
    """An exact address, or `@domain` for everyone at that domain. Empty list: nobody."""
    email = (email or "").strip().lower()
    if not email or "@" not in email:
        return False
    domain = "@" + email.rsplit("@", 1)[1]
    entries = {str(e).strip().lower() for e in allowed}
    return email in entries or domain in entries


# --- where the app may serve without sign-in ----------------------------------------


def host_of(host_header: str | None) -> str:
    """`localhost:8501` -> `localhost`, `[::1]:8501` -> `::1`."""
    host = (host_header or "").strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def local_only_problem(address: str | None, headers: Mapping[str, str]) -> str | None:
    """Why this request must not be served without sign-in, or None when it is local."""
    if (address or "") not in LOCAL_HOSTS:
        return (f"the server listens on {address or 'every interface'!s}, not only on "
                "localhost")
    host = host_of(headers.get("Host"))
    if host and host not in LOCAL_HOSTS:
        return f"the page was requested as {host}, not as localhost"
    if any(headers.get(h) for h in ("X-Forwarded-For", "X-Forwarded-Host", "Forwarded")):
        return "the request came through a proxy"
    return None


# --- the gate ------------------------------------------------------------------------


def require_sign_in() -> Viewer:
    """Return who is looking, or show only the sign-in form and stop the script."""
    conf = settings.secrets()
    chosen = mode(conf)
    secrecy.install_log_redaction(secrecy.secret_values(conf))
    if chosen != "local":
        # On a shared server an exception's text may hold a path or a URL: show none.
        st.set_option("client.showErrorDetails", "none")
    if chosen == "oidc":
        viewer = _oidc_gate(conf)
    elif chosen == "password":
        viewer = _password_gate(conf)
    else:
        viewer = _local_gate()
    st.session_state[_SESSION_KEY] = viewer
    return viewer


def nav_position() -> Literal["sidebar", "hidden"]:
    """Where `st.navigation` shows the page list: hidden until the gate would let this
    session in. The navigation is built before the gate so a direct page URL is kept
    through sign-in, but the list of pages is not shown to a stranger."""
    conf = settings.secrets()
    chosen = mode(conf)
    if chosen == "local":
        admitted = local_only_problem(st.get_option("server.address"), _headers()) is None
    elif chosen == "password":
        viewer = current_viewer()
        admitted = viewer is not None and viewer.mode == "password"
    else:
        admitted = _oidc_admitted(st.user, _access(conf))
    return "sidebar" if admitted else "hidden"


def current_viewer() -> Viewer | None:
    """The viewer the gate let in during this session (None outside a signed-in run)."""
    viewer = st.session_state.get(_SESSION_KEY)
    return viewer if isinstance(viewer, Viewer) else None


def can_reveal() -> bool:
    """May the current viewer see full phone numbers (on the Users page only)?"""
    viewer = current_viewer()
    return bool(viewer and viewer.admin)


def reveal_control(user_id: str, *, key: str | None = None) -> str | None:
    """For the Users page: an admin-only "Reveal full number" button for one user.

    Nothing renders for anyone else. When an admin presses it, the reveal is written to
    the audit log first, then the number is shown for that run only; returns it (or None).
    """
    viewer = current_viewer()
    if viewer is None or not viewer.admin:
        return None
    if st.button("Reveal full number", key=key or f"reveal_{audit.user_ref(user_id)}",
                 icon=":material/visibility:",
                 help="Admins only. Each reveal is recorded in the audit log (who, when, "
                      "which user)."):
        audit.log_reveal(viewer.name, user_id)
        st.success(f"Full number: {user_id} (this reveal was logged)")
        return user_id
    return None


def _sign_in_title() -> None:
    st.title("Profit dashboard")
    st.caption("Sign in to see the figures.")


def _password_gate(conf: Mapping[str, Any]) -> Viewer:
    viewer = current_viewer()
    if viewer is not None and viewer.mode == "password":
        _signed_in_sidebar(viewer)
        return viewer
    _sign_in_title()
    with st.form("sign_in", clear_on_submit=True):
        name = st.text_input("Your name", max_chars=80,
                             help="Recorded in the audit log when you reveal a phone number.")
        password = st.text_input("Password", type="password", max_chars=256)
        submitted = st.form_submit_button("Sign in", type="primary")
    if submitted:
        try:
            outcome, wait = check_password(conf, password, _lockout())
        except ValueError as exc:  # a malformed hash: say so, without the value
            st.error(str(exc))
            st.stop()
        if outcome in ("ok", "admin"):
            who = (name or "").strip() or "anonymous"
            st.session_state[_SESSION_KEY] = Viewer(who, admin=outcome == "admin",
                                                    mode="password")
            st.rerun()
        if outcome == "locked" or wait > 0:
            st.error(f"Too many wrong passwords. Try again in {int(wait) + 1} s.")
        else:
            st.error("Wrong password.")
    st.stop()


def oidc_missing_packages() -> list[str]:
    """What `st.login` needs and this environment lacks. Authlib alone is not enough: its
    Starlette client imports httpx2 (or the older httpx) only when the browser reaches
    `/auth/login`, so without one the button leads to a server error, not the provider."""
    from streamlit.auth_util import is_authlib_installed

    missing = [] if is_authlib_installed() else ["Authlib==1.9.6"]
    if not (_installed("httpx2") or _installed("httpx")):
        missing.append("httpx2==2.16.2")
    return missing


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def _oidc_gate(conf: Mapping[str, Any]) -> Viewer:
    missing = oidc_missing_packages()
    if missing:
        st.error(f"Sign-in with `[auth]` needs {' and '.join(m.split('==')[0] for m in missing)}"
                 f": `pip install {' '.join(missing)}`.")
        st.stop()
    user = st.user
    if not user.get("is_logged_in", False):
        _sign_in_title()
        if "auth" not in _streamlit_secrets():
            st.error("`[auth]` must be in `.streamlit/secrets.toml`, the file Streamlit's "
                     "sign-in reads (PROFIT_SECRETS points elsewhere).")
            st.stop()
        st.button("Sign in", type="primary", on_click=st.login)
        st.stop()
    email = str(user.get("email") or "")
    access = _access(conf)
    if not _oidc_admitted(user, access):
        _sign_in_title()
        st.error(f"{email or 'This account'} is not allowed to see this dashboard. "
                 "Ask its owner to add you to `[access] allowed_emails`.")
        st.button("Sign out", on_click=st.logout)
        st.stop()
    viewer = Viewer(email, admin=email_allowed(email, list(access.get("admins", []))),
                    mode="oidc")
    _signed_in_sidebar(viewer)
    return viewer


def _oidc_admitted(user: Mapping[str, Any], access: Mapping[str, Any]) -> bool:
    """Signed in, with an email the provider verified and the allow-list admits. One rule
    for the gate and the page list, so neither admits someone the other refuses."""
    if not user.get("is_logged_in", False) or user.get("email_verified", True) is False:
        return False
    return email_allowed(str(user.get("email") or ""), list(access.get("allowed_emails", [])))


def _streamlit_secrets() -> Mapping[str, Any]:
    try:
        return st.secrets.to_dict()
    except (FileNotFoundError, OSError):
        return {}


def _local_gate() -> Viewer:
    problem = local_only_problem(st.get_option("server.address"), _headers())
    if problem is not None:
        st.error(f"No sign-in is configured, and {problem}. This dashboard shows figures only "
                 "on this machine (http://localhost) until a password (`[access] password_hash`"
                 ") or `[auth]` is set in the secrets.")
        st.stop()
    with st.sidebar:
        st.caption("🔒 No sign-in configured: serving on this machine only (localhost).")
    return Viewer("local", admin=False, mode="local")


def _headers() -> Mapping[str, str]:
    try:
        return dict(st.context.headers)
    except Exception:  # no request (e.g. AppTest): nothing says it is remote
        return {}


def _signed_in_sidebar(viewer: Viewer) -> None:
    with st.sidebar:
        role = " (admin)" if viewer.admin else ""
        st.caption(f"Signed in as **{viewer.name}**{role}")
        if st.button("Sign out", key="_sign_out"):
            st.session_state.pop(_SESSION_KEY, None)
            if viewer.mode == "oidc":
                # st.logout() queues the browser's trip to /auth/logout, which deletes the
                # identity cookie; a rerun would clear that queue and keep the cookie.
                st.logout()
                st.stop()
            st.rerun()


# --- command: make a hash for the secrets -------------------------------------------


def _read_password(stream: Any) -> str:
    if stream.isatty():
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Again: "):
            raise SystemExit("the two passwords differ")
        return first
    return stream.readline().rstrip("\r\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m dashboard.auth",
        description="Make the salted scrypt hash for the shared-password sign-in.")
    sub = parser.add_subparsers(dest="command", required=True)
    cmd = sub.add_parser("hash-password", help="read a password (prompt or stdin), print "
                                                "the line to put under [access] in secrets.toml",
                         description="Read a password and print the [access] line that "
                                     "lets it sign in.",
                         formatter_class=argparse.RawDescriptionHelpFormatter,
                         epilog="example:\n  .venv/bin/python -m dashboard.auth "
                                "hash-password --admin >> .streamlit/secrets.toml")
    cmd.add_argument("--admin", action="store_true",
                     help="print admin_password_hash (may reveal phone numbers) instead")
    args = parser.parse_args(argv)
    password = _read_password(sys.stdin)
    if len(password) < 12:
        print("refused: use at least 12 characters", file=sys.stderr)
        return 2
    key = "admin_password_hash" if args.admin else "password_hash"
    print(f'{key} = "{hash_password(password)}"')
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
