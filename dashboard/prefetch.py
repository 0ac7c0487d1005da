"""Build the Weekly report in the background while the founder reads Daily.

At 1,000,000 users the week's report takes 8–10 s of DuckDB work, nearly all of it the
first time; Daily is where every visit starts, and the next page is most often Weekly. So
once Daily has been drawn, one thread per data version asks the app's own cache for the
reports of the weeks Weekly opens on, with Daily's timezone and the current policy: first
the default week (the newest complete one: what a new tab or a bookmark opens), then the
week holding Daily's day (what the sidebar opens, since a session's pages share their
focus). These are the keys the Weekly page asks for, so its first open finds the result,
or waits on Streamlit's per-key lock for the build already under way instead of starting
a second one.

Off with `PROFIT_PREFETCH=off` (the test suite's default, so that a test counting what a
page computes sees no thread's work), and never on Spark, whose session is not ours to
share with a thread.
"""

from __future__ import annotations

import logging
import threading

from core import settings
from dashboard import data
from enforcement.policy import load_policy
from loaders.publish import data_version
from queries import weekly
from report import model

_LOG = logging.getLogger(__name__)
_LOCK = threading.Lock()
_STARTED: set[tuple[object, ...]] = set()


def build_reports(focus_week: str, tz: str) -> None:
    """Ask the app's cache for the default week's report, then the focus week's (logged, not
    raised, on failure: the Weekly page builds it again and shows the error)."""
    try:  # the policy as the Weekly page reads it (ui.current_policy): an equal cache key
        policy = load_policy(settings.policy_path())
        default = data.cached(weekly.default_week)(tz=tz)
        for week in dict.fromkeys(w for w in (default, focus_week) if w is not None):
            data.cached(model.build_weekly)(week=week, tz=tz, policy=policy)
    except Exception:  # the Weekly page builds it again and shows any error itself
        _LOG.exception("building the Weekly report in the background failed")


def weekly_reports(focus_week: str, tz: str, *, force: bool = False
                   ) -> threading.Thread | None:
    """Start the Weekly reports once per data version, focus week, timezone and policy file.

    Returns the thread (tests join it), or None when nothing was started."""
    if not (force or settings.prefetch()) or settings.engine().name == "spark":
        return None
    key = (data.current_version(), focus_week, tz, data_version(settings.policy_path()))
    with _LOCK:
        if key in _STARTED:
            return None
        _STARTED.add(key)
    thread = threading.Thread(target=build_reports, args=(focus_week, tz), name="prefetch-weekly",
                              daemon=True)
    thread.start()
    return thread
