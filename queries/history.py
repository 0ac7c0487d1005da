"""The replay's reading shell: history for whole months (policy timezone) out of DuckDB.

The rules (`enforcement/`) never import DuckDB; this module reads the three event kinds
and hands them over as plain columns (`History`). On DuckDB (a database or a lake) that
is one unordered read, `replay_events.sql`, straight into numpy through Arrow: integer
user codes and instants, no id ever a Python object (at 1,000,000 users the read was 90% of
the replay's time), put in fold order by `enforcement/event_order.py`. Another engine
(Spark) returns the three kinds as frames (`replay_requests.sql` ...), which
`History.from_frames` sorts.
"""

from __future__ import annotations

import contextlib
import ctypes
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from enforcement.event_order import kind_user_time_order, settle_ties, take4, tie_rows
from enforcement.replay import History, from_us, month_range_us
from loaders.publish import connect_read_only
from queries import Connection, QueryEngine, run, sql_text

REQUEST, REVENUE, CLICK, USER, TEXT = 0, 1, 2, 3, 4   # replay_events.sql's kinds


def month_bounds(start: str, end: str, tz: str) -> tuple[datetime, datetime]:
    """Naive-UTC [first instant of `start`, first instant after `end`) in timezone `tz`."""
    lo, hi = month_range_us(start, end, tz)
    return from_us(lo).replace(tzinfo=None), from_us(hi).replace(tzinfo=None)


def _requests_query(con: duckdb.DuckDBPyConnection) -> str:
    """A database loaded before the runtime's columns existed is read as it was written."""
    has = int(run(con, "runtime_columns")["n"].iloc[0])
    return "replay_requests" if has == 2 else "replay_requests_unrecorded"


def _with_recorded(requests: pd.DataFrame, recorded: pd.DataFrame) -> pd.DataFrame:
    """The runtime's recorded outcome beside each of its requests; other requests were
    recorded only as their counted cost (reason None, tokens -1)."""
    out = requests.merge(recorded, on="event_id", how="left")
    out["recorded_cost_micro"] = out["recorded_cost_micro"].fillna(out["cost_micro"]).astype(
        "int64")
    out["recorded_tokens"] = out["recorded_tokens"].fillna(-1).astype("int64")
    out["recorded_reason"] = out["recorded_reason"].astype(object).where(
        out["recorded_reason"].notna(), None)
    return out


def read_history(db: Path | str | Connection, start: str, end: str, tz: str) -> History:
    """Counted requests, revenue and affiliate clicks of months `start`..`end` (YYYY-MM).

    `db` is a database file or an open connection: DuckDB's (on the database or a lake) or
    another engine's (Spark: the reads run there, the fold here)."""
    lo, hi = month_bounds(start, end, tz)
    open_already = isinstance(db, duckdb.DuckDBPyConnection | QueryEngine)
    con = db if open_already else connect_read_only(Path(db))
    try:
        if isinstance(con, duckdb.DuckDBPyConnection):
            history = read_sorted(con, lo, hi)
            _give_back_memory()
            return history
        return read_frames(con, lo, hi)
    finally:
        if con is not db:
            con.close()


def _give_back_memory() -> None:
    """Return what the read freed to the system, not to the allocators' free lists.

    Its Arrow table and numpy intermediates are gone once `read_sorted` returns, but Arrow's
    pool and glibc's malloc keep the pages for reuse: in the app, 1.9 GB of a 4.8 GB process
    after reading 1,000,000 users' month (2.9 GB after this).
    """
    pa.default_memory_pool().release_unused()
    with contextlib.suppress(OSError, AttributeError):  # not glibc: its allocator decides
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def read_frames(con: Connection, lo: datetime, hi: datetime) -> History:
    """History from the three kinds' frames, sorted by `History.from_frames` (any engine)."""
    requests_query = _requests_query(con)
    requests, revenue, clicks = (run(con, name, start=lo, end=hi)
                                 for name in (requests_query, "replay_revenue", "replay_clicks"))
    if requests_query == "replay_requests":
        recorded = run(con, "replay_recorded", start=lo, end=hi)
        if len(recorded):
            requests = _with_recorded(requests, recorded)
    revenue["tokens"] = revenue["tokens"].astype("Int64")
    return History.from_frames(requests, revenue, clicks)


def _events_query(con: duckdb.DuckDBPyConnection, lo: datetime, hi: datetime) -> str:
    """replay_events, or its plain variant where the runtime wrote nothing in the months."""
    if _requests_query(con) == "replay_requests" and int(
            run(con, "runtime_rows", start=lo, end=hi)["n"].iloc[0]):
        return "replay_events"
    return "replay_events_unrecorded"


def _read(con: duckdb.DuckDBPyConnection, name: str, lo: datetime, hi: datetime, exact: bool
          ) -> tuple[pa.Table, np.ndarray, np.ndarray, np.ndarray]:
    """The query's rows in the order they come, and their kind, user code and instant."""
    params = {"start": lo, "end": hi, "exact_order": exact}
    table = con.sql(sql_text(name), params=params).to_arrow_table()
    kind = table.column("kind").to_numpy()
    code = table.column("code").to_numpy()
    return table, kind, code, table.column("ts_us").to_numpy()


def _ids_of(table: pa.Table) -> Callable[[np.ndarray], list[str]]:
    """The event ids of some rows (only ties ask; the rest never become Python strings)."""
    ids = table.column("event_id")
    return lambda rows: ids.take(pa.array(rows)).to_pylist()


def _filled(table: pa.Table, column: str, missing: int) -> np.ndarray:
    """An integer column, `missing` where null (in its own width: cast after a gather)."""
    return table.column(column).fill_null(missing).to_numpy()


def read_sorted(con: duckdb.DuckDBPyConnection, lo: datetime, hi: datetime) -> History:
    """History from one unordered read (`replay_events.sql`), put in fold order here.

    Event ids become ranks: `*_event_id` holds each row's position in its kind's order,
    which orders a tie exactly as the ids do (all the fold needs of them). Two requests of
    one user in the same micro-second are rare, so the read comes without ids and is
    repeated with them only when it finds such a pair."""
    name = _events_query(con, lo, hi)
    for exact in (False, True):
        table, kind, code, ts = _read(con, name, lo, hi, exact)
        usr, txt = np.flatnonzero(kind == USER), np.flatnonzero(kind == TEXT)
        n_users = len(usr)
        # Kinds below USER are the events; the text rows are left out of the order.
        orders = kind_user_time_order(kind, code, ts, USER, n_users)
        req, rev, clk = (orders[k] for k in (REQUEST, REVENUE, CLICK))
        if exact:
            req = settle_ties(req, code, ts, _ids_of(table))
        micro, name_codes = table.column("micro").to_numpy(), _filled(table, "name", -1)
        req_user, req_ts, req_cost, action_codes = take4(req, code, ts, micro, name_codes)
        if exact or not len(tie_rows(req_user, req_ts)):
            break
    texts = table.column("text")
    users = np.empty(n_users, dtype=object)
    users[code[usr]] = texts.take(pa.array(usr)).to_pylist()
    # Name codes index `names`; a null code (-1) is its last entry, None.
    names = np.empty(len(txt) + 1, dtype=object)
    names[code[txt]] = texts.take(pa.array(txt)).to_pylist()
    tokens = table.column("tokens")
    recorded: dict[str, np.ndarray] = {}
    if name == "replay_events":
        cost = pc.coalesce(table.column("recorded_cost_micro"), table.column("micro"))
        recorded = {
            "req_recorded_cost": cost.to_numpy()[req].astype(np.int64),
            "req_recorded_reason": names[_filled(table, "recorded_reason", -1)[req]],
            "req_recorded_tokens": _filled(table, "recorded_tokens", -1)[req].astype(np.int64),
        }
    history = History(
        users=users,
        # Categorical: 45 M action names as 45 M Python references cost 0.8 s at 1M users.
        req_user=req_user, req_ts=req_ts,
        req_action=pd.Categorical.from_codes(action_codes, categories=names[:-1]),
        req_cost=req_cost, req_event_id=None,  # ranks: positions (request_ids)
        rev_user=code[rev].astype(np.int64), rev_ts=ts[rev], rev_stream=names[name_codes[rev]],
        rev_amount=micro[rev], rev_tokens=_filled(table, "tokens", -1)[rev].astype(np.int64),
        rev_has_tokens=tokens.is_valid().to_numpy(zero_copy_only=False)[rev],
        rev_event_id=np.arange(len(rev)),
        # After the revenue ranks: at one instant revenue, then clicks, as the fold takes them.
        clk_user=code[clk].astype(np.int64), clk_ts=ts[clk],
        clk_event_id=np.arange(len(rev), len(rev) + len(clk)),
        **recorded,
    )
    history._cache["actions"] = (action_codes, names)
    return history
