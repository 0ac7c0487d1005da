"""The app computes Daily's and Weekly's default figures as data is published, under the
keys the pages ask for: after `dashboard/warm.py` has run, opening either computes nothing.

The suite runs with `PROFIT_PREFETCH=off` (tests/conftest.py); these tests turn it on and
count every call the app's cache really computes (its misses).
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import data, warm
from loaders.pipeline import Chunk, load
from loaders.publish import connect_read_only
from queries import kpis as K
from tests import weekly_users_fixtures as fx

ROOT = Path(__file__).resolve().parent.parent
WARMED = {"data_span", "kpis", "verdict", "action_needed", "daily_series", "default_week",
          "build_weekly"}


@pytest.fixture
def db(make_db: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
       ) -> Iterator[Path]:
    path = fx.serve(make_db, tmp_path, monkeypatch)
    monkeypatch.setenv("PROFIT_PREFETCH", "on")
    yield path
    warm.stop()


@pytest.fixture
def computed(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    """(function name, parameters) of every call the app's cache computed (its misses)."""
    calls: list[tuple[str, dict[str, Any]]] = []

    class Counting(dict):
        def __getitem__(self, key: str) -> Callable[..., Any]:
            func = super().__getitem__(key)

            def counted(con: Any, **params: Any) -> Any:
                calls.append((key.rsplit(".", 1)[1], params))
                return func(con, **params)

            return counted

    monkeypatch.setattr(data, "_REGISTRY", Counting(data._REGISTRY))
    return calls


def _page(name: str) -> None:
    at = AppTest.from_file(str(ROOT / "pages" / f"{name}.py"), default_timeout=60)
    at.run()
    assert not at.exception, [e.message for e in at.exception]


def _last_day(db: Path) -> str:
    con = connect_read_only(db)
    try:
        return K.data_span(con, "UTC")[1].isoformat()
    finally:
        con.close()


def test_after_warming_daily_and_weekly_compute_nothing(
        db: Path, computed: list[tuple[str, dict[str, Any]]]) -> None:
    warm.warm_once()
    names = [name for name, _ in computed]
    assert set(names) == WARMED
    assert names.count("kpis") == 2 and names.count("build_weekly") == 2  # day, the day before
    day = _last_day(db)
    assert sorted(p["period"] for n, p in computed if n == "kpis") == [
        K.previous_period("day", day), day]
    computed.clear()
    _page("daily")
    _page("weekly")
    # every figure either page shows was there already, but the live alert check, keyed by
    # the clock's five minutes (dashboard/alerts_panel.py), not by the data
    assert [name for name, _ in computed] == ["firing_now"]


def test_dailys_defaults_are_computed_at_once(db: Path, monkeypatch: pytest.MonkeyPatch
                                              ) -> None:
    """The trend series and the action list wait for each other here: computed one after
    the other, the first would wait until the barrier broke."""
    meeting = threading.Barrier(2, timeout=30)
    threads: dict[str, str] = {}

    class Meeting(dict):
        def __getitem__(self, key: str) -> Callable[..., Any]:
            func, name = super().__getitem__(key), key.rsplit(".", 1)[1]
            if name not in ("daily_series", "action_needed"):
                return func

            def met(con: Any, **params: Any) -> Any:
                threads[name] = threading.current_thread().name
                meeting.wait()
                return func(con, **params)

            return met

    monkeypatch.setattr(data, "_REGISTRY", Meeting(data._REGISTRY))
    assert warm.daily_defaults() == _last_day(db)
    assert len(set(threads.values())) == 2 and not meeting.broken


def test_a_new_load_is_warmed_by_the_watching_thread(
        db: Path, computed: list[tuple[str, dict[str, Any]]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(warm, "POLL_SECONDS", 0.05)
    day = _last_day(db)
    thread = warm.start()
    assert thread is not None and warm.start() is thread  # one per process
    _wait_for(lambda: ("kpis", day) in _periods(computed))
    after = (datetime.fromisoformat(day) + timedelta(days=1, hours=9)).isoformat(sep=" ")
    result = load(db, "test", [Chunk(frames={"cost_events": [
        {"event_id": "warm-1", "user_id": "+15550009999", "ts": after, "action": "meal_plan",
         "cost_usd": "0.050000", "counted": True}]})])
    assert result.rows_written == 1
    new_day = _last_day(db)
    assert new_day > day
    _wait_for(lambda: ("kpis", new_day) in _periods(computed))  # the new version, unasked
    warm.stop()
    assert not thread.is_alive()


def test_the_same_figures_are_asked_for_again_before_the_cache_forgets_them(
        db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert warm.REWARM_SECONDS < data.CACHE_TTL_SECONDS
    monkeypatch.setattr(warm, "POLL_SECONDS", 0.05)
    monkeypatch.setattr(warm, "REWARM_SECONDS", 0.3)
    rounds: list[float] = []
    monkeypatch.setattr(warm, "warm_once", lambda: rounds.append(time.monotonic()))
    warm.start()
    _wait_for(lambda: len(rounds) >= 3)  # no new load: the clock asked again
    warm.stop()
    assert min(b - a for a, b in itertools.pairwise(rounds)) >= 0.3


def test_turned_off_it_does_not_start(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROFIT_PREFETCH", "off")
    assert warm.start() is None


def _periods(computed: list[tuple[str, dict[str, Any]]]) -> set[tuple[str, str]]:
    return {(name, p.get("period", "")) for name, p in computed}


def _wait_for(done: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError("the watching thread did not compute it in time")
        time.sleep(0.05)
