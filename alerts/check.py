"""One check, as cron runs it: evaluate, record what is new, send it, say what happened.

    python -m alerts check [--db PATH] [--now ISO] [--dry-run]

Prints one line per alert fired or resolved; a channel that failed gets one line on
stderr and its alerts on the next run. Exits 0 whether or not a channel answered (the
state holds what is owed), 1 when there is no database, 2 for a bad argument or setting.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import duckdb

from alerts import channels as channel_mod
from alerts import state as store
from alerts.deliver import deliver
from alerts.model import ENDED, Observation
from alerts.rules import Context, observe
from core import secrecy, settings
from queries import kpis as K


def parse_now(text: str | None) -> datetime:
    """`--now` as an aware instant; a time without an offset is UTC, as everywhere here."""
    if text is None:
        return datetime.now(UTC).replace(microsecond=0)
    try:
        now = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"--now is not an ISO date and time: {text!r} "
                         "(e.g. 2026-03-15T10:00:00+01:00)") from None
    return now if now.tzinfo else now.replace(tzinfo=UTC)


def hidden_values(conf: settings.AlertSettings) -> list[str]:
    """Everything no line may show: the alerts' secrets and every secret in the settings."""
    values = set(conf.secrets()) | set(secrecy.secret_values(settings.secrets()))
    return sorted(values, key=len, reverse=True)


def evaluate(db: Path, now: datetime, conf: settings.AlertSettings
             ) -> tuple[list[Observation], dict[str, str]]:
    """Every enabled rule's observations at `now`, and the period each rule judges."""
    from loaders.publish import connect_read_only

    con = connect_read_only(Path(db))
    try:
        ctx = Context(con, now, settings.timezone(),
                      K.resolve_policy(settings.policy_path()), conf.rules,
                      hidden_values(conf))
        return observe(ctx), {rule: ctx.period(rule) for rule in conf.rules}
    finally:
        con.close()


def firing_now(con: duckdb.DuckDBPyConnection, *, now: str, tz: str, policy: str
               ) -> list[dict[str, Any]]:
    """What fires at `now`, as plain rows (for the app's landing page, which caches it)."""
    conf = settings.alerts()
    ctx = Context(con, datetime.fromisoformat(now), tz, K.resolve_policy(policy), conf.rules,
                  hidden_values(conf))
    return [{"rule": o.rule, "key": o.key, "period": o.period, "value": o.value,
             "threshold": o.threshold, "message": o.message, "page": o.page}
            for o in observe(ctx) if o.firing]


def check(db: Path, now: datetime, *, dry_run: bool = False, out: TextIO | None = None,
          err: TextIO | None = None, sleep: Callable[[float], None] | None = None) -> int:
    """Run one check; return the exit code. Lines go to `out`, channel failures to `err`
    (stdout and stderr unless given)."""
    out, err = out or sys.stdout, err or sys.stderr
    conf = settings.alerts(db)
    hidden = hidden_values(conf)
    secrecy.install_log_redaction(hidden)

    def say(line: str, stream: TextIO) -> None:
        print(secrecy.redact(line, hidden), file=stream, flush=True)

    observations, periods = evaluate(db, now, conf)
    sending = channel_mod.configured(conf)
    stamp = now.astimezone(UTC).isoformat()
    if dry_run:
        changes = store.advance(store.load(conf.state_path), observations, periods,
                                sending, stamp, conf.dashboard_link)
        for st, record in changes:
            if st != ENDED:
                say(f"(dry run) {_line(st, record)}", out)
        return 0
    with store.locked(conf.state_path):
        state = store.load(conf.state_path)
        changes = store.advance(state, observations, periods, sending, stamp,
                                conf.dashboard_link)
        store.prune(state, now.astimezone(UTC), sending)
        state["last_check"] = stamp
        store.save(conf.state_path, state)
        for st, record in changes:
            if st != ENDED:
                say(_line(st, record), out)
        failures = deliver(state, sending, conf, lambda s: store.save(conf.state_path, s),
                           sleep or time.sleep)
        store.save(conf.state_path, state)
    for line in failures:
        say(line, err)
    return 0


def _line(st: str, record: dict[str, Any]) -> str:
    message = record["events"][st]["message"]
    return f"{st} {record['rule']} {record['key']} {record['period']}: {message}"
