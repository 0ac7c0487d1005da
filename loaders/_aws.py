"""Shared AWS plumbing for the DynamoDB and S3 loaders: one way to make a client.

Credentials and region come from the usual boto3 chain (environment, profile, role)
unless the app's secrets carry an `[aws]` table (`region`, `profile`,
`aws_access_key_id`, `aws_secret_access_key`, `aws_session_token`, `endpoint_url`).
No credential value is ever printed or logged: error texts pass through `scrub`.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # boto3 loads when a client is made: every loader command imports this
    import boto3  # module (the registry reads each source's), and most load no AWS source

DEFAULT_MAX_ATTEMPTS = 10
_KEY_FIELDS = ("aws_access_key_id", "aws_secret_access_key", "aws_session_token")


def aws_settings() -> dict[str, Any]:
    """The `[aws]` table of the secrets (empty when absent)."""
    from core import settings

    return dict(settings.secrets().get("aws", {}) or {})


def session(region: str | None = None) -> boto3.session.Session:
    """A boto3 session: explicit region, else `[aws] region`, else the boto3 chain."""
    cfg = aws_settings()
    kwargs: dict[str, Any] = {k: cfg[k] for k in _KEY_FIELDS if cfg.get(k)}
    if cfg.get("profile") and not kwargs:
        kwargs["profile_name"] = cfg["profile"]
    region = region or cfg.get("region") or None
    if region:
        kwargs["region_name"] = region
    import boto3

    sess = boto3.session.Session(**kwargs)
    if not sess.region_name:
        # Local endpoints (moto, DynamoDB Local) ignore the region but botocore wants one.
        raise ValueError("no AWS region: pass --region, set AWS_REGION or AWS_DEFAULT_REGION, "
                         "or put region under [aws] in .streamlit/secrets.toml")
    return sess


def client(service: str, *, region: str | None = None, endpoint_url: str | None = None,
           max_attempts: int = DEFAULT_MAX_ATTEMPTS, pool: int = 10) -> Any:
    """A client with adaptive retries (backoff and client-side rate limiting on throttling)."""
    endpoint_url = (endpoint_url or os.environ.get(f"AWS_ENDPOINT_URL_{service.upper()}")
                    or os.environ.get("AWS_ENDPOINT_URL") or aws_settings().get("endpoint_url")
                    or None)
    from botocore.config import Config

    config = Config(retries={"mode": "adaptive", "max_attempts": max_attempts},
                    max_pool_connections=pool, connect_timeout=10, read_timeout=60)
    return session(region).client(service, endpoint_url=endpoint_url, config=config)


def scrub(text: str) -> str:
    """`text` with any configured credential value masked, for error messages."""
    values = [str(v) for k, v in aws_settings().items() if k in _KEY_FIELDS and v]
    values += [os.environ[k.upper()] for k in _KEY_FIELDS if os.environ.get(k.upper())]
    for value in values:
        if len(value) >= 4:
            text = text.replace(value, "***")
    return text
