"""Real local sinks for the alert channels, all on 127.0.0.1, and a small business.

`WebhookSink` is an HTTP server that records every POST (headers and raw body) and can
be told to answer 500 or to hang past the client's timeout; `refused_url()` points at a
port nothing listens on. `SmtpSink` is an aiosmtpd server that checks the login and keeps
every message. `write_alert_secrets` writes a secrets file whose secrets the tests then
look for in every output.
"""

from __future__ import annotations

import email
import json
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from core import settings
from tests.kpi_fixtures import cost, revenue

HOST = "127.0.0.1"
WEBHOOK_SECRET = "whsec-TestSecretNeverShown-7f3a9c"
SLACK_TOKEN = "XoxbSlackPathSecretNeverShown42"
SMTP_USER = "alerts@example.com"
SMTP_PASSWORD = "smtpPasswordNeverShown-9d2e"
SECRETS = (WEBHOOK_SECRET, SLACK_TOKEN, SMTP_PASSWORD)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def refused_url(path: str = "/hook") -> str:
    """An address on 127.0.0.1 where nothing listens: the connection is refused."""
    return f"http://{HOST}:{free_port()}{path}"


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (timed out) is expected here: no traceback on stderr."""


class WebhookSink:
    """Records POSTs. `mode`: "ok" (200), "fail" (500) or "hang" (answers after `hang` s)."""

    def __init__(self, hang: float = 2.0) -> None:
        self.received: list[Received] = []
        self.attempts = 0
        self.mode = "ok"
        self.hang = hang
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server API
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                sink.attempts += 1
                mode = sink.mode  # as it was when the request came in
                if mode == "hang":
                    time.sleep(sink.hang)
                if mode == "fail":
                    self.send_response(500)
                    self.end_headers()
                    return
                if mode == "ok":
                    sink.received.append(Received(self.path, dict(self.headers), body))
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = _QuietServer((HOST, 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str = "/hook") -> str:
        return f"http://{HOST}:{self.server.server_address[1]}{path}"

    def events(self) -> list[dict[str, Any]]:
        return [r.json for r in self.received]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key (PEM files), for the STARTTLS sink."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address(HOST))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "smtp-cert.pem", directory / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@dataclass
class SmtpSink:
    """An SMTP server on 127.0.0.1 that wants SMTP_USER / SMTP_PASSWORD and keeps mail.

    With `tls` (a certificate and key), it requires STARTTLS before anything else and
    refuses a login in the clear."""

    messages: list[EmailMessage] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)
    tls: tuple[Path, Path] | None = None

    def __post_init__(self) -> None:
        self.port = free_port()
        options: dict[str, Any] = {"auth_require_tls": False}
        if self.tls:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(*map(str, self.tls))
            options = {"tls_context": context, "require_starttls": True,
                       "auth_require_tls": True}
        self.controller = Controller(self, hostname=HOST, port=self.port,
                                     authenticator=self._auth, **options)
        self.controller.start()

    def _auth(self, server: Any, session: Any, envelope: Any, mechanism: str,
              auth_data: Any) -> AuthResult:
        if isinstance(auth_data, LoginPassword):
            login, password = auth_data.login.decode(), auth_data.password.decode()
            self.logins.append((login, password))
            return AuthResult(success=(login, password) == (SMTP_USER, SMTP_PASSWORD),
                              handled=False)
        return AuthResult(success=False, handled=False)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(email.message_from_bytes(envelope.content, _class=EmailMessage,
                                                      policy=default_policy))
        return "250 Message accepted"

    def close(self) -> None:
        self.controller.stop()


def write_alert_secrets(directory: Path, *, webhook: str | None = None,
                        slack: str | None = None, smtp_port: int | None = None,
                        extra: str = "", name: str = "secrets.toml") -> Path:
    """A secrets file with the given channels; fast retries for tests."""
    lines = ["[alerts]", 'dashboard_link = "https://profit.example.com"',
             "retries = 3", "backoff_seconds = 0.01", "timeout_seconds = 0.5"]
    if webhook:
        lines += [f'webhook_url = "{webhook}"', f'webhook_secret = "{WEBHOOK_SECRET}"']
    if slack:
        lines.append(f'slack_webhook_url = "{slack}"')
    if smtp_port:
        lines += [f'smtp_host = "{HOST}"', f"smtp_port = {smtp_port}", "smtp_starttls = false",
                  f'smtp_user = "{SMTP_USER}"', f'smtp_password = "{SMTP_PASSWORD}"',
                  'email_from = "profit@example.com"',
                  'email_to = ["founder@example.com", "cofounder@example.com"]']
    path = directory / name
    path.write_text("\n".join(lines) + "\n" + extra)
    settings._secrets.cache_clear()
    return path


# -- a small business, worked by hand (UTC, seed policy: cutoff $2.00, target $3.00) ------

P1, P2 = "+15550001001", "+15550001002"                      # February, both at target
U1, U2, U3, U4, U5 = (f"+1555000200{i}" for i in range(1, 6))  # March

HISTORY_COSTS = [
    # February: two users, each $0.10 of cost and $5.00 of revenue -> both at target.
    cost(P1, "2026-02-01 09:00:00", "meal_plan", "0.10"),
    cost(P2, "2026-02-03 09:00:00", "meal_plan", "0.10"),
    # 1-13 March: U2 alone, $0.04 a day -> cost per user $0.04 each day.
    *[cost(U2, f"2026-03-{d:02d} 09:00:00", "simple_message", "0.04") for d in range(1, 14)],
    # 14 March (the last complete day at 15 March 10:00): U1 $2.50 + U3 $0.20, 2 users.
    cost(U1, "2026-03-14 09:00:00", "dietary_advice", "2.50"),
    cost(U3, "2026-03-14 10:00:00", "meal_plan", "0.20"),
    # 15 March before 10:00: U4 just over the cutoff, U5 exactly at it.
    cost(U4, "2026-03-15 08:00:00", "dietary_advice", "2.10"),
    cost(U5, "2026-03-15 08:00:00", "dietary_advice", "2.00"),
]
HISTORY_REVENUE = [
    revenue(P1, "2026-02-02 09:00:00", "tokens", "5.00"),
    revenue(P2, "2026-02-03 10:00:00", "tokens", "5.00"),
    revenue(U2, "2026-03-02 09:00:00", "premium", "10.00"),
    revenue(U3, "2026-03-14 11:00:00", "tokens", "4.00"),
    # after 15 March 10:00: U1 and U4 pay, so at 12:00 nobody is over the cutoff unpaid
    revenue(U1, "2026-03-15 11:00:00", "tokens", "5.00"),
    revenue(U4, "2026-03-15 11:30:00", "tokens", "5.00"),
]
NOW = "2026-03-15T10:00:00"


@pytest.fixture
def hook() -> Iterator[WebhookSink]:
    """A webhook sink on 127.0.0.1 for one test."""
    sink = WebhookSink()
    yield sink
    sink.close()


@pytest.fixture
def slack() -> Iterator[WebhookSink]:
    """A second webhook sink, standing for Slack's incoming webhook."""
    sink = WebhookSink()
    yield sink
    sink.close()


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    """An SMTP sink (aiosmtpd) on 127.0.0.1 for one test."""
    sink = SmtpSink()
    yield sink
    sink.close()
