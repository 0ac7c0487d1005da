"""`queries.gather`: a page's independent figures run side by side, each on its own cursor,
and come back under their own names, as they would one after another."""

from __future__ import annotations

import threading
from pathlib import Path

import duckdb
import pytest

from queries import gather


@pytest.fixture
def con(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    path = tmp_path / "g.duckdb"
    with duckdb.connect(str(path)) as w:
        w.execute("CREATE TABLE t AS SELECT range AS n FROM range(2000000)")
    return duckdb.connect(str(path), read_only=True)


def _sum_below(limit: int):  # noqa: ANN202 - a job
    def job(cur: duckdb.DuckDBPyConnection) -> tuple[int, str]:
        (total,) = cur.execute("SELECT sum(n) FROM t WHERE n < ?", [limit]).fetchone()
        return int(total), threading.current_thread().name
    return job


def test_each_job_gets_its_own_result_run_on_other_threads(con: duckdb.DuckDBPyConnection) -> None:
    limits = {f"below {n}": n for n in (10, 1000, 1_999_999, 2_000_000, 77_777)}
    got = gather(con, {name: _sum_below(n) for name, n in limits.items()})
    assert list(got) == list(limits)
    assert {name: total for name, (total, _) in got.items()} == \
        {name: n * (n - 1) // 2 for name, n in limits.items()}
    assert all(thread != threading.main_thread().name for _, thread in got.values())


def test_a_job_that_fails_fails_the_gathering(con: duckdb.DuckDBPyConnection) -> None:
    def broken(cur: duckdb.DuckDBPyConnection) -> None:
        cur.execute("SELECT * FROM no_such_table")

    with pytest.raises(duckdb.CatalogException, match="no_such_table"):
        gather(con, {"fine": _sum_below(5), "broken": broken})


def test_another_engine_runs_the_jobs_one_after_another() -> None:
    engine = object()  # not a DuckDB connection: a Spark engine, say
    got = gather(engine, {"a": lambda c: (c, threading.current_thread().name),
                          "b": lambda c: 2})
    assert got == {"a": (engine, threading.main_thread().name), "b": 2}
