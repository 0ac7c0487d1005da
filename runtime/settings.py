"""The runtime's settings, from environment variables (what a Lambda is configured with).

Every name has a default, so `simulate` against a local table needs none of them:
- `PROFIT_ENV` (dev), `PROFIT_TABLE_PREFIX` (ai-nutritionist): table names
  `<prefix>-user-{costs,revenue,tokens,affiliate}-<env>`, each overridable by
  `PROFIT_COSTS_TABLE`, `PROFIT_REVENUE_TABLE`, `PROFIT_TOKENS_TABLE`, `PROFIT_AFFILIATE_TABLE`.
- `PROFIT_POLICY`: the policy file, a path or an `s3://bucket/key` URL (the What-if download).
- `PROFIT_POLICY_REFRESH_S` (300): how long a Lambda keeps a policy before reading it again.
- `PROFIT_FAIL_MODE` (closed): `open` serves a request when DynamoDB cannot be reached,
  `closed` refuses it. Closed by default: the product guarantees profit, and a request
  served while nothing can be recorded is a cost nobody sees.
- `PROFIT_MAX_ATTEMPTS` (5): attempts per DynamoDB call (botocore adaptive retries).
- `AWS_REGION` / `AWS_DEFAULT_REGION`, `PROFIT_DYNAMODB_ENDPOINT` (a local endpoint).
- `PROFIT_PURCHASE_URL`, `PROFIT_RESTORE_URL`, `PROFIT_PREMIUM_URL`: the payment links
  the guide's messages carry.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

LOGICAL_TABLES = ("costs", "revenue", "tokens", "affiliate")
FAIL_OPEN, FAIL_CLOSED = "open", "closed"
DEFAULT_POLICY = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                              "enforcement", "policies", "seed-default.toml")


def table_names(prefix: str, env: str, environ: Mapping[str, str] | None = None
                ) -> dict[str, str]:
    """Logical table -> name: `PROFIT_<TABLE>_TABLE`, else `<prefix>-user-<table>-<env>`."""
    environ = os.environ if environ is None else environ
    return {t: environ.get(f"PROFIT_{t.upper()}_TABLE") or f"{prefix}-user-{t}-{env}"
            for t in LOGICAL_TABLES}


@dataclass(frozen=True)
class Settings:
    """Where the runtime stores, which policy it applies, and how it behaves on failure."""

    env: str = "dev"
    prefix: str = "ai-nutritionist"
    tables: dict[str, str] = field(default_factory=dict)
    region: str | None = None
    endpoint_url: str | None = None
    policy_location: str = DEFAULT_POLICY
    policy_refresh_s: float = 300.0
    fail_mode: str = FAIL_CLOSED
    max_attempts: int = 5
    purchase_url: str = "https://payments.ai-nutritionist.com/tokens"
    restore_url: str = "https://payments.ai-nutritionist.com/restore"
    premium_url: str = "https://payments.ai-nutritionist.com/premium"

    def __post_init__(self) -> None:
        if self.fail_mode not in (FAIL_OPEN, FAIL_CLOSED):
            raise ValueError(f"PROFIT_FAIL_MODE must be 'open' or 'closed', got {self.fail_mode!r}")
        if not self.tables:
            object.__setattr__(self, "tables", table_names(self.prefix, self.env, {}))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Settings from the environment; keyword overrides (the command line's flags) win."""
        environ = os.environ if environ is None else environ
        env = str(overrides.pop("env", None) or environ.get("PROFIT_ENV") or "dev")
        prefix = str(overrides.pop("prefix", None) or environ.get("PROFIT_TABLE_PREFIX")
                     or "ai-nutritionist")
        values: dict[str, object] = {
            "env": env, "prefix": prefix, "tables": table_names(prefix, env, environ),
            "region": environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or None,
            "endpoint_url": environ.get("PROFIT_DYNAMODB_ENDPOINT") or None,
            "policy_location": environ.get("PROFIT_POLICY") or DEFAULT_POLICY,
            "policy_refresh_s": float(environ.get("PROFIT_POLICY_REFRESH_S") or 300),
            "fail_mode": (environ.get("PROFIT_FAIL_MODE") or FAIL_CLOSED).strip().lower(),
            "max_attempts": int(environ.get("PROFIT_MAX_ATTEMPTS") or 5),
        }
        for key in ("purchase_url", "restore_url", "premium_url"):
            if environ.get(f"PROFIT_{key.upper()}"):
                values[key] = environ[f"PROFIT_{key.upper()}"]
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]
