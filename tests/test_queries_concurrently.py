"""`queries.concurrently`: independent reads run at once, each on a cursor of its own, and
give what they give one after another; a failing read's error reaches the caller."""

from __future__ import annotations

import threading
from pathlib import Path

import duckdb
import pytest

from loaders.publish import connect_read_only
from queries import concurrently, kpis


def test_reads_run_at_once_each_on_its_own_cursor(demo_db: Path) -> None:
    con = connect_read_only(demo_db)
    meeting = threading.Barrier(3, timeout=20)  # three reads that wait for one another
    seen: list[object] = []

    def read(query: str):
        def run(cur: duckdb.DuckDBPyConnection) -> int:
            seen.append(cur)
            meeting.wait()  # one after another, the first would wait here forever
            return cur.execute(query).fetchall()[0][0]
        return run

    try:
        done = concurrently(con, {"costs": read("SELECT count(*) FROM cost_events"),
                                  "revenue": read("SELECT count(*) FROM revenue_events"),
                                  "one": read("SELECT 1")})
        want = {"costs": con.execute("SELECT count(*) FROM cost_events").fetchall()[0][0],
                "revenue": con.execute("SELECT count(*) FROM revenue_events").fetchall()[0][0],
                "one": 1}
    finally:
        con.close()
    assert done == want and want["costs"] > 1000
    assert list(done) == ["costs", "revenue", "one"]  # in the order asked
    assert len({id(c) for c in seen}) == 3 and all(c is not con for c in seen)
    for cur in seen:  # each cursor closed once its read is done
        with pytest.raises(duckdb.ConnectionException):
            cur.execute("SELECT 1")


def test_a_failing_read_raises_to_the_caller(demo_db: Path) -> None:
    con = connect_read_only(demo_db)
    try:
        with pytest.raises(duckdb.CatalogException, match="no_such_table"):
            concurrently(con, {"ok": lambda c: c.execute("SELECT 1").fetchall(),
                               "bad": lambda c: c.execute("FROM no_such_table").fetchall()})
    finally:
        con.close()


def test_the_figures_equal_those_of_reads_one_after_another(demo_db: Path,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    """kpis() reads at once; the same reads one after another give the same figures."""
    con = connect_read_only(demo_db)
    try:
        at_once = {g: kpis.kpis(con, g, p) for g, p in
                   (("day", "2026-03-20"), ("week", "2026-W12"), ("month", "2026-03"))}
        monkeypatch.setattr(kpis, "concurrently",
                            lambda c, reads: {n: r(c) for n, r in reads.items()})
        one_by_one = {g: kpis.kpis(con, g, p) for g, p in
                      (("day", "2026-03-20"), ("week", "2026-W12"), ("month", "2026-03"))}
    finally:
        con.close()
    assert at_once == one_by_one
    assert at_once["month"]["active_users"] > 100 and at_once["month"]["retention_pct"]
