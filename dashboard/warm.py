"""Compute what Daily and Weekly open on as soon as the data is published, before anyone asks.

At 1,000,000 users Daily's figures take 2–3 s of DuckDB work and Weekly's report 5 s, and
both are the same for every visitor until the next load. So one thread per app process
("warm") looks at the published database's version every POLL_SECONDS and, for each new
version (or policy file, or timezone), and again before the app's cache forgets them, asks
that cache for what Daily shows when opened without a day (`daily_defaults`: the data's
last day, the day before it, the verdict, the action list, the trend charts' series), then
for the Weekly reports (`dashboard/prefetch.py`). These are the keys the pages ask for, so
a page finds its figures computed, or waits on Streamlit's per-key lock for the
computation under way instead of starting a second one. tests/test_warm.py holds the keys
equal to the pages'.

Started by `dashboard/server.py` when the server starts (before the first visitor, the
way `make run` serves the app) and by `dashboard/app.py` at every session (once per
process, for `streamlit run dashboard/app.py`). Off with `PROFIT_PREFETCH=off`, like the
prefetch, and never on Spark, whose session is not ours to share with a thread.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date

from core import settings
from dashboard import data, morning, prefetch
from loaders.publish import data_version
from queries import actions, verdict
from queries import kpis as K

POLL_SECONDS = 2.0
# The app's cache forgets a result CACHE_TTL_SECONDS after computing it (the action list
# judges staleness by the clock), so the same figures are asked for again a minute before:
# at 1,000,000 users about 12 s of work every 9 minutes.
REWARM_SECONDS = data.CACHE_TTL_SECONDS - 60
_LOG = logging.getLogger(__name__)
_LOCK = threading.Lock()
_THREAD: threading.Thread | None = None
_STOP = threading.Event()


def daily_defaults() -> str | None:
    """Compute, through the app's cache, what Daily shows when opened without a day (as
    `ui.period_page`, `morning` and pages/daily.py ask for it); returns that day, or None
    when no event is loaded."""
    tz = settings.timezone()
    policy = str(settings.policy_path())  # the period pages' key: the path, not the Policy
    span = data.cached(K.data_span)(tz=tz)
    if span is None:
        return None
    first, last = span
    day = K.period_name("day", last)
    kpis = data.cached(K.kpis)
    first_day, last_day = morning.trend_window(day, first)
    # At once: none needs another but the verdict, which reads the day's figures; a visitor
    # who comes meanwhile waits on each key's own lock, for the part under way.
    with ThreadPoolExecutor(max_workers=4, thread_name_prefix="warm-daily") as pool:
        now = pool.submit(kpis, grain="day", period=day, tz=tz, policy=policy)
        rest = [pool.submit(kpis, grain="day", period=K.previous_period("day", day), tz=tz,
                            policy=policy),
                pool.submit(data.cached(actions.action_needed), day=day, tz=tz, policy=policy),
                pool.submit(data.cached(K.daily_series), first_day=first_day,
                            last_day=last_day, tz=tz, policy=policy)]
        data.cached(verdict.verdict)(day=day, tz=tz, policy=policy,
                                     first_month=f"{first:%Y-%m}", mtd=verdict.mtd_of(now.result()))
        for part in rest:
            part.result()
    return day


def warm_once() -> None:
    """Daily's default figures, then the Weekly reports of its day's week and the default."""
    day = daily_defaults()
    if day is None:
        return
    prefetch.build_reports(K.period_name("week", date.fromisoformat(day)), settings.timezone())


def _state() -> tuple[object, ...]:
    """What the warm figures depend on: the data, the policy file and the timezone."""
    return (data.current_version(), data_version(settings.policy_path()), settings.timezone())


def _watch(stop: threading.Event) -> None:
    seen: tuple[object, ...] | None = None
    warmed = 0.0
    while not stop.is_set():
        try:
            state = _state()
            due = state != seen or time.monotonic() - warmed >= REWARM_SECONDS
            if settings.prefetch() and state[0] is not None and due:
                seen, warmed = state, time.monotonic()
                warm_once()
        except Exception:  # the pages compute it themselves and show any error
            _LOG.exception("computing the landing page's figures in the background failed")
        stop.wait(POLL_SECONDS)


def start() -> threading.Thread | None:
    """Start the watching thread once per process; returns it, or None where it is off.
    (Called at every script run: once the thread runs, nothing else is read.)"""
    global _THREAD
    running = _THREAD
    if running is not None and running.is_alive() and not _STOP.is_set():
        return running
    if not settings.prefetch() or settings.engine().name == "spark":
        return None
    with _LOCK:
        if _THREAD is None or not _THREAD.is_alive():
            _STOP.clear()
            _THREAD = threading.Thread(target=_watch, args=(_STOP,), name="warm", daemon=True)
            _THREAD.start()
        return _THREAD


def stop(timeout: float = 60) -> None:
    """End the watching thread (after the computation under way, if any)."""
    with _LOCK:
        thread = _THREAD
        _STOP.set()
    if thread is not None:
        thread.join(timeout)
