"""A real OpenID Connect provider on 127.0.0.1 for the company sign-in tests.

`oidc_provider(client, accounts, log_dir)` runs panva's `oidc-provider` (npm, pinned in
tests/oidc/package-lock.json) under Node: installed with `npm ci` into the git-ignored
tests/oidc/node_modules on first use, started on a free port, and yielded as its issuer
URL once its discovery document answers. A missing node or npm fails with what to install.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import re
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from tests.browser import stop

ROOT = Path(__file__).resolve().parent.parent
NODE_DIR = ROOT / "tests" / "oidc"
PROVIDER = NODE_DIR / "provider.mjs"
_STAMP = NODE_DIR / "node_modules" / ".installed-from-lock"


@dataclass(frozen=True)
class Account:
    """A person at the provider: signs in with `email` and `password` on its login page."""

    email: str
    password: str
    name: str
    email_verified: bool = True


@dataclass(frozen=True)
class Client:
    """The dashboard as registered at the provider (what `[auth]` in the secrets names)."""

    client_id: str
    client_secret: str
    redirect_uri: str


def require_node() -> tuple[str, str]:
    """node and npm, or a failure that says how to get them (never a skip)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        raise RuntimeError("the company sign-in tests run a real OpenID Connect provider "
                           "under Node.js: apt-get install nodejs npm (.ci/system-deps "
                           "installs them)")
    return node, npm


def install_provider() -> None:
    """`npm ci` from the lock file, once per lock file: a stamp in node_modules holds the
    lock's hash. A file lock keeps two pytest workers from installing at the same time."""
    _, npm = require_node()
    lock_hash = hashlib.sha256((NODE_DIR / "package-lock.json").read_bytes()).hexdigest()
    with (NODE_DIR / ".install.lock").open("w") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)
        if _STAMP.exists() and _STAMP.read_text() == lock_hash:
            return
        done = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                              cwd=NODE_DIR, capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            raise RuntimeError(f"npm ci in {NODE_DIR} failed:\n{done.stdout}{done.stderr}")
        _STAMP.write_text(lock_hash)


@contextlib.contextmanager
def oidc_provider(client: Client, accounts: Sequence[Account], log_dir: Path,
                  *, timeout_s: float = 60) -> Iterator[str]:
    """Run the provider with this client and these accounts; yields its issuer URL."""
    node, _ = require_node()
    install_provider()
    config = log_dir / "oidc-provider.json"
    config.write_text(json.dumps({"port": 0, "client": asdict(client),
                                  "accounts": [asdict(a) for a in accounts]}))
    log_path = log_dir / "oidc-provider.log"
    log = log_path.open("w")
    proc = subprocess.Popen([node, str(PROVIDER), str(config)], cwd=NODE_DIR, stdout=log,
                            stderr=subprocess.STDOUT)
    try:
        issuer = _wait_until_serving(proc, log_path, timeout_s)
        yield issuer
    finally:
        stop(proc, log)


def _wait_until_serving(proc: subprocess.Popen, log_path: Path, timeout_s: float) -> str:
    """The issuer the provider printed, once its discovery document names that issuer."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = re.search(r"^listening (http://127\.0\.0\.1:\d+)$", log_path.read_text(), re.M)
        if found:
            try:
                url = f"{found.group(1)}/.well-known/openid-configuration"
                with urllib.request.urlopen(url, timeout=2) as r:
                    if json.load(r).get("issuer") == found.group(1):
                        return found.group(1)
            except OSError:
                pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the OpenID Connect provider did not start:\n"
                               + log_path.read_text()[-3000:])
        time.sleep(0.1)
