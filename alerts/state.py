"""The once-per-(rule, key, period) memory: a small JSON file beside the database.

The published DuckDB file stays the loaders' alone; this file is the alerts' own. It is
written whole to a temporary file and renamed over the old one (atomic on POSIX), after
every change and after every delivery, so a run that dies never sends an alert twice.
A lock file keeps two overlapping cron runs from both sending.

A record: {rule, key, period, state: firing|resolved|ended, url, events: {firing: step,
resolved: step}}, where a step holds when, the value, threshold and message, the channels
it is `due` to (those configured at that moment) and those it was `sent` to.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from alerts.model import ENDED, FIRING, RESOLVED, Observation, link

VERSION = 1
KEEP_DAYS = 90  # resolved and ended alerts are listed this long, then forgotten


class StateError(Exception):
    """A state file that cannot be read; the message says which and what to do."""


def empty() -> dict[str, Any]:
    return {"version": VERSION, "last_check": None, "alerts": []}


def load(path: Path) -> dict[str, Any]:
    """The state, or an empty one when the file does not exist yet.

    A damaged file is refused rather than replaced: starting empty would send every
    alert of the period again.
    """
    path = Path(path)
    if not path.exists():
        return empty()
    try:
        state = json.loads(path.read_text())
        if not isinstance(state, dict) or not isinstance(state.get("alerts"), list):
            raise ValueError
    except (ValueError, OSError):
        raise StateError(f"{path} is not an alerts state file: move it away to start "
                         "afresh (the alerts of this period will then be sent again)") from None
    return state


def save(path: Path, state: dict[str, Any]) -> None:
    """Write the whole state to a temporary file beside it, then rename it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("w") as fh:
        json.dump(state, fh, indent=1, sort_keys=True)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold the state's lock for a whole check: a second run waits for the first."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(f"{path}.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _step(obs: Observation, channels: Iterable[str], now: str) -> dict[str, Any]:
    return {"at": now, "value": obs.value, "threshold": obs.threshold,
            "message": obs.message, "due": list(channels), "sent": [], "sent_at": {}}


def advance(state: dict[str, Any], observations: Iterable[Observation],
            periods: dict[str, str], channels: Iterable[str], now: str,
            dashboard_link: str | None = None) -> list[tuple[str, dict[str, Any]]]:
    """Apply one run's observations; return the changes (new state, record) in order.

    New firing (rule, key, period): recorded as firing, due to every channel. A firing
    one observed clear: resolved, once, due to the channels its firing was due to.
    Anything already recorded for its period fires no more. A firing alert whose rule has
    moved on to another period is `ended`: its period is over, nothing cleared, so nothing
    is sent.
    """
    channels = list(channels)
    index = {(r["rule"], r["key"], r["period"]): r for r in state["alerts"]}
    changes: list[tuple[str, dict[str, Any]]] = []
    for obs in observations:
        record = index.get(obs.ident)
        if obs.firing and record is None:
            record = {"rule": obs.rule, "key": obs.key, "period": obs.period,
                      "state": FIRING, "url": link(dashboard_link, obs.page),
                      "events": {FIRING: _step(obs, channels, now)}}
            state["alerts"].append(record)
            index[obs.ident] = record
            changes.append((FIRING, record))
        elif not obs.firing and record is not None and record["state"] == FIRING:
            record["state"] = RESOLVED  # to the channels that were told it fired
            told = [ch for ch in record["events"][FIRING]["due"] if ch in channels]
            record["events"][RESOLVED] = _step(obs, told, now)
            changes.append((RESOLVED, record))
    for record in state["alerts"]:
        current = periods.get(record["rule"])
        if record["state"] == FIRING and current is not None and record["period"] != current:
            record["state"] = ENDED
            record["ended_at"] = now
            changes.append((ENDED, record))
    return changes


def pending(record: dict[str, Any], channels: Iterable[str]) -> list[tuple[str, str]]:
    """(state, channel) of this record still to be sent, to channels configured now."""
    names = set(channels)
    return [(st, ch) for st in (FIRING, RESOLVED) if st in record["events"]
            for ch in record["events"][st]["due"]
            if ch in names and ch not in record["events"][st]["sent"]]


def prune(state: dict[str, Any], now: datetime, channels: Iterable[str]) -> None:
    """Forget resolved and ended alerts older than KEEP_DAYS with nothing left to send."""
    names = list(channels)
    horizon = (now - timedelta(days=KEEP_DAYS)).isoformat()

    def last(record: dict[str, Any]) -> str:
        return max([record.get("ended_at") or ""] + [s["at"] for s in record["events"].values()])

    state["alerts"] = [r for r in state["alerts"]
                       if r["state"] == FIRING or pending(r, names) or last(r) >= horizon]


def firing(state: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in state["alerts"] if r["state"] == FIRING]
