"""Fixtures for the access tests: a secrets file with the shared password configured."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from dashboard import auth

TEAM_PASSWORD = "team-password-123"
ADMIN_PASSWORD = "admin-password-456"

# Cheap scrypt cost for tests only: the format and the check are the same as in real use.
_FAST = {"n": 2**10, "r": 8, "p": 1}


@dataclass(frozen=True)
class PasswordSecrets:
    path: Path
    audit_log: Path
    aws_secret: str
    db_url: str


def write_password_secrets(directory: Path, **extra_access: str) -> PasswordSecrets:
    """A secrets.toml in password mode, with an admin password, an AWS secret and a URL
    whose password must never be shown."""
    aws_secret = "AWSSECRETdoNotShow0123456789abcdef"
    db_url = "postgresql://reader:pgSecretDoNotShow42@db.internal:5432/profit"
    lines = [
        "[access]",
        f'password_hash = "{auth.hash_password(TEAM_PASSWORD, **_FAST)}"',
        f'admin_password_hash = "{auth.hash_password(ADMIN_PASSWORD, **_FAST)}"',
        *(f'{k} = "{v}"' for k, v in extra_access.items()),
        "",
        "[aws]",
        'aws_access_key_id = "AKIAEXAMPLEKEYID0001"',
        f'aws_secret_access_key = "{aws_secret}"',
        "",
        "[postgres]",
        f'url = "{db_url}"',
    ]
    path = directory / "secrets.toml"
    path.write_text("\n".join(lines) + "\n")
    return PasswordSecrets(path, directory / "audit.log", aws_secret, db_url)


def use_password_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> PasswordSecrets:
    """Password mode for this test: PROFIT_SECRETS and PROFIT_AUDIT_LOG point into tmp_path,
    and the process's lock-out starts clean."""
    conf = write_password_secrets(tmp_path)
    monkeypatch.setenv("PROFIT_SECRETS", str(conf.path))
    monkeypatch.setenv("PROFIT_AUDIT_LOG", str(conf.audit_log))
    auth._lockout.clear()
    return conf
