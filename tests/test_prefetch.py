"""Daily builds the Weekly report in the background, under the keys Weekly then asks for.

The suite runs with `PROFIT_PREFETCH=off` (tests/conftest.py); these tests turn it on,
join the thread, and count the report builds the Weekly page then makes.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import prefetch
from loaders.publish import connect_read_only
from queries import kpis, weekly
from report import model
from tests import weekly_users_fixtures as fx

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def db(make_db: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = fx.serve(make_db, tmp_path, monkeypatch)
    monkeypatch.setenv("PROFIT_PREFETCH", "on")
    return path


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every week `report.model.build_weekly` really builds (cache misses only)."""
    weeks: list[str] = []
    real = model.build_weekly

    @functools.wraps(real)  # the same name, so the app's cache key is the same
    def counted(con: Any, **params: Any) -> model.WeeklyReport:
        weeks.append(params["week"])
        return real(con, **params)

    monkeypatch.setattr(model, "build_weekly", counted)
    return weeks


def _page(name: str, **params: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / f"{name}.py"), default_timeout=60)
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _join_prefetch() -> int:
    threads = [t for t in threading.enumerate() if t.name == "prefetch-weekly"]
    for thread in threads:
        thread.join(timeout=60)
    return len(threads)


def _weeks(db: Path) -> tuple[str, str]:
    """The default week and the week of Daily's default day (the data's last day)."""
    con = connect_read_only(db)
    try:
        default = weekly.default_week(con, tz="UTC")
        last_day = kpis.data_span(con, "UTC")[1]
    finally:
        con.close()
    return default, kpis.period_name("week", last_day)


def test_daily_builds_both_weeks_and_weekly_then_builds_none(
        db: Path, builds: list[str]) -> None:
    default, focus = _weeks(db)
    assert default != focus  # the fixture's last week is incomplete: two reports
    _page("daily")
    assert _join_prefetch() == 1
    assert builds == [default, focus]  # the bookmark's week first, then the sidebar's
    _page("weekly")  # a new session: the default week
    _page("weekly", week=focus)
    _page("daily")  # the same data: nothing started again
    assert _join_prefetch() == 0
    assert builds == [default, focus]


@pytest.mark.parametrize("off", ["off", "OFF", "0", "false", "no"])
def test_turned_off_nothing_starts_and_weekly_builds_its_own(
        db: Path, builds: list[str], monkeypatch: pytest.MonkeyPatch, off: str) -> None:
    monkeypatch.setenv("PROFIT_PREFETCH", off)
    default, _focus = _weeks(db)
    _page("daily")
    assert _join_prefetch() == 0
    _page("weekly")
    assert builds == [default]


def test_one_start_per_data_version_week_and_policy(
        db: Path, builds: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROFIT_PREFETCH", "off")  # `force` starts it all the same
    default, focus = _weeks(db)
    first = prefetch.weekly_reports(focus, "UTC", force=True)
    assert first is not None
    first.join(timeout=60)
    assert prefetch.weekly_reports(focus, "UTC", force=True) is None
    again = prefetch.weekly_reports(default, "UTC", force=True)  # another focus: its own start
    assert again is not None
    again.join(timeout=60)
    assert builds == [default, focus]  # the second start found both reports cached


def test_a_failed_build_is_logged_not_raised(
        db: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    def broken(con: Any, **params: Any) -> model.WeeklyReport:
        raise RuntimeError("disk gone")

    monkeypatch.setattr(model, "build_weekly", functools.wraps(model.build_weekly)(broken))
    thread = prefetch.weekly_reports("2026-W01", "UTC", force=True)
    assert thread is not None
    thread.join(timeout=60)
    assert "building the Weekly report in the background failed" in caplog.text
    assert "disk gone" in caplog.text
