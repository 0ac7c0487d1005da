"""Where the app and every command find the database, timezone and policy.

One lookup order everywhere: environment variable, then `.streamlit/secrets.toml`,
then the default. Plain Python (no Streamlit) so commands and tests share it.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

ROOT = Path(__file__).resolve().parent.parent
SECRETS_PATH = ROOT / ".streamlit" / "secrets.toml"
DEFAULT_DB = ROOT / "data" / "profit.duckdb"
DEFAULT_POLICY = ROOT / "enforcement" / "policies" / "seed-default.toml"


@lru_cache(maxsize=4)
def _secrets(path: str) -> dict[str, Any]:
    p = Path(path)
    if not p.exists():
        return {}
    with p.open("rb") as fh:
        return tomllib.load(fh)


def secrets(path: Path | None = None) -> dict[str, Any]:
    """The parsed secrets file (empty when absent). Never logged or printed."""
    target = Path(os.environ.get("PROFIT_SECRETS", path or SECRETS_PATH))
    return _secrets(str(target))


def _setting(env: str, section: str, key: str, default: str) -> str:
    value = os.environ.get(env)
    if value:
        return value
    value = secrets().get(section, {}).get(key)
    return str(value) if value else default


def db_path() -> Path:
    """`PROFIT_DB`, else `[database] path` in the secrets, else data/profit.duckdb."""
    path = Path(_setting("PROFIT_DB", "database", "path", str(DEFAULT_DB)))
    return path if path.is_absolute() else ROOT / path


def timezone() -> str:
    """The reporting timezone: `PROFIT_TIMEZONE`, else `[reporting] timezone`, else UTC."""
    name = _setting("PROFIT_TIMEZONE", "reporting", "timezone", "UTC")
    check_timezone(name)
    return name


def policy_path() -> Path:
    """The current enforcement policy: `PROFIT_POLICY`, `[policy] path`, else the seed's."""
    path = Path(_setting("PROFIT_POLICY", "policy", "path", str(DEFAULT_POLICY)))
    return path if path.is_absolute() else ROOT / path


def prefetch() -> bool:
    """`PROFIT_PREFETCH`, else `[app] prefetch`: whether Daily builds the Weekly report in
    the background (on; `off` for tests that count what a page computes)."""
    value = _setting("PROFIT_PREFETCH", "app", "prefetch", "on")
    return value.strip().lower() not in {"off", "0", "false", "no"}


def check_timezone(name: str) -> str:
    """Refuse a name that is not an IANA timezone, with a message that says so."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        msg = f"unknown timezone {name!r}: use an IANA name such as Europe/Paris"
        raise ValueError(msg) from exc
    return name


EARLIEST_INSTANT = "2000-01-01"
LATEST_INSTANT = "2100-01-01"


def instant_range() -> tuple[datetime, datetime]:
    """The instants a load accepts, `earliest <= ts < latest` (UTC).

    No real event is older than the service or centuries ahead; `infinity` or year 12000
    would load and then break every page. `PROFIT_EARLIEST`/`PROFIT_LATEST`, else
    `[loading] earliest`/`latest`, else 2000-01-01 and 2100-01-01.
    """
    bounds = []
    for env, key, default in (("PROFIT_EARLIEST", "earliest", EARLIEST_INSTANT),
                              ("PROFIT_LATEST", "latest", LATEST_INSTANT)):
        text = _setting(env, "loading", key, default)
        try:
            bounds.append(datetime.fromisoformat(text).replace(tzinfo=None))
        except ValueError as exc:
            raise ValueError(f"[loading] {key} is not a date: {text!r}") from exc
    earliest, latest = bounds
    if not earliest < latest:
        raise ValueError(f"[loading] earliest ({earliest}) must be before latest ({latest})")
    return earliest, latest


def secrets_path() -> Path:
    """The secrets file in force: `PROFIT_SECRETS`, else .streamlit/secrets.toml."""
    return Path(os.environ.get("PROFIT_SECRETS", SECRETS_PATH))


def save_targets(values: dict[str, str]) -> Path:
    """Write `[targets]` into the secrets file, keeping every other section, atomically.

    Values are decimal strings (`"5000"`, `"87.25"`); an empty string removes the
    override (the default applies again). Comments in the file are not kept (TOML writers
    do not keep them), so the app only writes here when an admin asks it to.
    """
    import tomli_w  # only this writer needs it

    from core.files import write_atomically

    path = secrets_path()
    current = dict(_secrets(str(path)))
    targets = {k: v for k, v in dict(current.get("targets", {})).items()}
    for key, value in values.items():
        if str(value).strip():
            targets[key] = str(value).strip()
        else:
            targets.pop(key, None)
    current["targets"] = targets
    write_atomically(path, tomli_w.dumps(current), mode=0o600)  # the file holds secrets
    _secrets.cache_clear()
    return path


# -- alerts ------------------------------------------------------------------------------

# Every alert rule with its parameters' defaults; `[alerts.<rule>]` may set `enabled` and
# any of them. Money and ratios are read as Decimal, counts as int.
ALERT_RULES: dict[str, dict[str, Decimal | int]] = {
    "users_over_cutoff_unpaid": {"min_users": 1},
    "users_at_target_below_target": {"pace_points": Decimal("0")},
    "cost_per_user_spike": {"factor": Decimal("2"), "window": 28, "min_history": 7},
    "margin_below_target": {},
    "load_failed": {},
    "data_stale": {"stale_hours": Decimal("6")},
}
_ALERT_KEYS = {"state_path", "dashboard_link", "webhook_url", "webhook_secret",
               "slack_webhook_url", "smtp_host", "smtp_port", "smtp_starttls", "smtp_user",
               "smtp_password", "email_from", "email_to", "retries", "backoff_seconds",
               "timeout_seconds"}


@dataclass(frozen=True)
class AlertSettings:
    """`[alerts]` read once: which rules run with which parameters, where the state lives,
    and the channels. Secret fields are left out of the repr, so a traceback or a log line
    that shows the object shows no secret."""

    rules: dict[str, dict[str, Decimal | int]]   # the enabled rules only
    state_path: Path
    dashboard_link: str | None = None
    webhook_url: str | None = field(default=None, repr=False)
    webhook_secret: str | None = field(default=None, repr=False)
    slack_webhook_url: str | None = field(default=None, repr=False)
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_starttls: bool = True
    smtp_user: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    email_from: str | None = None
    email_to: tuple[str, ...] = ()
    retries: int = 3
    backoff_seconds: float = 1.0
    timeout_seconds: float = 10.0

    @property
    def email_ready(self) -> bool:
        return bool(self.smtp_host and self.email_from and self.email_to)

    def secrets(self) -> list[str]:
        """The values that must never be shown (webhook URLs, the secret, the password)."""
        return [v for v in (self.webhook_url, self.webhook_secret, self.slack_webhook_url,
                            self.smtp_password) if v]


def _rule_param(rule: str, name: str, default: Decimal | int, raw: Any) -> Decimal | int:
    try:
        if isinstance(raw, bool) or isinstance(raw, float) and raw != raw:
            raise ValueError
        value: Decimal | int = int(raw) if isinstance(default, int) else Decimal(str(raw))
    except (ValueError, ArithmeticError):
        raise ValueError(f"[alerts.{rule}] {name} is not a number: {raw!r}") from None
    if value < 0:
        raise ValueError(f"[alerts.{rule}] {name} must not be negative: {raw!r}")
    return value


def alerts(db: Path | None = None) -> AlertSettings:
    """`[alerts]` of the secrets, checked, with every default filled in.

    The state file is `PROFIT_ALERTS_STATE`, else `[alerts] state_path`, else
    `<database name>.alerts.json` beside the database (`db`, else the settings' one).
    A rule runs unless its `[alerts.<rule>]` says `enabled = false`. A mistake is refused
    by name, never by value.
    """
    conf = dict(secrets().get("alerts", {}))
    rules: dict[str, dict[str, Decimal | int]] = {}
    for rule, defaults in ALERT_RULES.items():
        given = dict(conf.pop(rule, {}) or {})
        enabled = given.pop("enabled", True)
        if not isinstance(enabled, bool):
            raise ValueError(f"[alerts.{rule}] enabled must be true or false")
        unknown = sorted(set(given) - set(defaults))
        if unknown:
            raise ValueError(f"[alerts.{rule}] has no setting {', '.join(unknown)}; it takes "
                             f"enabled{''.join(', ' + k for k in defaults)}")
        if enabled:
            rules[rule] = {k: _rule_param(rule, k, d, given.get(k, d))
                           for k, d in defaults.items()}
    unknown = sorted(k for k in conf if k not in _ALERT_KEYS)
    if unknown:
        raise ValueError(f"[alerts] has no setting or rule {', '.join(unknown)}")
    db = Path(db) if db is not None else db_path()
    state = os.environ.get("PROFIT_ALERTS_STATE") or conf.get("state_path") or \
        db.with_name(f"{db.stem}.alerts.json")
    state = Path(state) if Path(state).is_absolute() else ROOT / state
    to = conf.get("email_to") or ()
    to = tuple(a.strip() for a in (to.split(",") if isinstance(to, str) else to) if a.strip())

    def text(key: str) -> str | None:
        value = conf.get(key)
        return str(value) if value not in (None, "") else None

    try:
        numbers = {"smtp_port": int(conf.get("smtp_port", 587)),
                   "retries": max(1, int(conf.get("retries", 3))),
                   "backoff_seconds": float(conf.get("backoff_seconds", 1.0)),
                   "timeout_seconds": float(conf.get("timeout_seconds", 10.0))}
    except (TypeError, ValueError):
        raise ValueError("[alerts] smtp_port, retries, backoff_seconds and timeout_seconds "
                         "must be numbers") from None
    return AlertSettings(
        rules=rules, state_path=state, dashboard_link=text("dashboard_link"),
        webhook_url=text("webhook_url"), webhook_secret=text("webhook_secret"),
        slack_webhook_url=text("slack_webhook_url"), smtp_host=text("smtp_host"),
        smtp_starttls=bool(conf.get("smtp_starttls", True)), smtp_user=text("smtp_user"),
        smtp_password=text("smtp_password"), email_from=text("email_from"), email_to=to,
        **numbers)


ENGINES = ("duckdb", "spark")
DEFAULT_SPARK_MASTER = "local[*]"


@dataclass(frozen=True)
class EngineSettings:
    """Where the queries run: `duckdb` on the database, or on a lake (`lake` set), or
    `spark` on a lake, with the Spark master (`local[*]`, `spark://…`, `sc://…`)."""

    name: str = "duckdb"
    lake: str | None = None
    spark_master: str = DEFAULT_SPARK_MASTER


def engine() -> EngineSettings:
    """`PROFIT_ENGINE`/`PROFIT_LAKE`/`PROFIT_SPARK_MASTER`, else `[engine] name`, `lake`,
    `spark_master`, else DuckDB on the database. Spark without a lake is refused."""
    name = _setting("PROFIT_ENGINE", "engine", "name", "duckdb")
    if name not in ENGINES:
        raise ValueError(f"[engine] name must be one of {', '.join(ENGINES)}, got {name!r}")
    lake = _setting("PROFIT_LAKE", "engine", "lake", "") or None
    if lake and "://" not in lake and not Path(lake).is_absolute():
        lake = str(ROOT / lake)
    if name == "spark" and not lake:
        raise ValueError("[engine] name = \"spark\" needs [engine] lake (a directory or s3:// URL)")
    master = _setting("PROFIT_SPARK_MASTER", "engine", "spark_master", DEFAULT_SPARK_MASTER)
    return EngineSettings(name, lake, master)
