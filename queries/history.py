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

from enforcement.event_order import (
    kind_user_time_order,
    settle_ties,
    take,
    tie_rows,
    user_time_order,
)
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


# Rows per Arrow batch of the streamed read: each batch is split into numpy columns and let
# go, so the whole result never sits in memory as Arrow (a test makes it small).
BATCH_ROWS = 1 << 20


def _np(array: pa.Array, missing: int | None = None) -> np.ndarray:
    """An Arrow integer column as numpy (`missing` where null, in the column's own width)."""
    if missing is not None:
        array = array.fill_null(missing)
    return array.to_numpy(zero_copy_only=False)


def _joined(parts: list[np.ndarray], dtype: type) -> np.ndarray:
    """The batches' pieces of one column as one array; the pieces are let go."""
    out = np.concatenate(parts).astype(dtype, copy=False) if parts else np.empty(0, dtype)
    parts.clear()
    _give_back_memory()  # the pieces' pages, before the next column's copy needs more
    return out


class _Rows:
    """The read's rows in the order they came, by part: the requests, the other events
    (revenue, clicks) and the texts (user ids and names), each column a numpy array.

    Kept apart because the requests are nearly all of the rows (45 M at 1,000,000 users):
    their columns hold only what the fold takes, in their own widths."""

    REQUEST = {"code": np.int32, "ts": np.int64, "micro": np.int64, "name": np.int32}
    RECORDED = {"recorded_cost": np.int64, "recorded_reason": np.int32,
                "recorded_tokens": np.int64}
    OTHER = {"kind": np.int8, "code": np.int32, "ts": np.int64, "micro": np.int64,
             "name": np.int32, "tokens": np.int64, "has_tokens": np.bool_}
    TEXT = {"kind": np.int8, "code": np.int32}

    def __init__(self, recorded: bool, exact: bool) -> None:
        self.recorded, self.exact = recorded, exact
        req_columns = self.REQUEST | (self.RECORDED if recorded else {})
        self.parts: dict[str, dict[str, list[np.ndarray]]] = {
            "req": {c: [] for c in req_columns}, "other": {c: [] for c in self.OTHER},
            "text": {c: [] for c in self.TEXT}}
        self.texts: list[pa.Array] = []
        self.ids: list[pa.Array] = []

    def add(self, batch: pa.RecordBatch) -> None:
        kind = _np(batch.column("kind"))
        is_req, is_text = kind == REQUEST, kind >= USER
        cols = {"kind": kind, "code": _np(batch.column("code")),
                "ts": _np(batch.column("ts_us")), "micro": _np(batch.column("micro")),
                "name": _np(batch.column("name"), -1)}
        if self.recorded:
            cols["recorded_cost"] = _np(pc.coalesce(batch.column("recorded_cost_micro"),
                                                    batch.column("micro")))
            cols["recorded_reason"] = _np(batch.column("recorded_reason"), -1)
            cols["recorded_tokens"] = _np(batch.column("recorded_tokens"), -1)
        tokens = batch.column("tokens")
        cols["tokens"] = _np(tokens, -1)
        cols["has_tokens"] = _np(tokens.is_valid())
        for part, rows in (("req", is_req), ("other", ~(is_req | is_text)), ("text", is_text)):
            for name, pieces in self.parts[part].items():
                pieces.append(cols[name][rows])
        if is_text.any():
            self.texts.append(batch.column("text").filter(pa.array(is_text)))
        if self.exact:
            self.ids.append(batch.column("event_id").filter(pa.array(is_req)))

    def columns(self, part: str) -> dict[str, np.ndarray]:
        """One part's columns, joined (their pieces let go one column at a time)."""
        dtypes = self.REQUEST | self.RECORDED | self.OTHER | self.TEXT
        return {name: _joined(pieces, dtypes[name])
                for name, pieces in self.parts[part].items()}


def _stream(con: duckdb.DuckDBPyConnection, name: str, lo: datetime, hi: datetime,
            exact: bool) -> _Rows:
    """The query's rows as `_Rows`, streamed in Arrow batches (at 1,000,000 users the
    whole result as one Arrow table took 1.9 GB, and its numpy copies 0.6 GB more)."""
    rows = _Rows(recorded=name == "replay_events", exact=exact)
    params = {"start": lo, "end": hi, "exact_order": exact}
    cur = con.cursor()
    try:
        for batch in cur.sql(sql_text(name), params=params).to_arrow_reader(BATCH_ROWS):
            rows.add(batch)
    finally:
        cur.close()
    return rows


def _ids_of(rows: _Rows) -> Callable[[np.ndarray], list[str]]:
    """The event ids of some requests (only ties ask; the rest never become Python strings)."""
    ids = pa.chunked_array(rows.ids, pa.string())
    return lambda positions: ids.take(pa.array(positions)).to_pylist()


def _sorted(order: np.ndarray, columns: dict[str, np.ndarray], name: str,
            dtype: type | np.dtype = np.int64) -> np.ndarray:
    """A request column in fold order; its unsorted copy is let go (and its pages freed)."""
    out = take(order, columns.pop(name), dtype)
    _give_back_memory()
    return out


def _texts(rows: _Rows) -> tuple[np.ndarray, np.ndarray]:
    """User ids by user code, and names by name code (its last entry None: code -1)."""
    text = rows.columns("text")
    kind, code = text["kind"], text["code"]
    texts = pa.chunked_array(rows.texts, pa.string())
    usr, txt = np.flatnonzero(kind == USER), np.flatnonzero(kind == TEXT)
    users = np.empty(len(usr), dtype=object)
    users[code[usr]] = texts.take(pa.array(usr)).to_pylist()
    names = np.empty(len(txt) + 1, dtype=object)
    names[code[txt]] = texts.take(pa.array(txt)).to_pylist()
    return users, names


def read_sorted(con: duckdb.DuckDBPyConnection, lo: datetime, hi: datetime) -> History:
    """History from one unordered read (`replay_events.sql`), put in fold order here.

    Event ids become ranks: `*_event_id` holds each row's position in its kind's order,
    which orders a tie exactly as the ids do (all the fold needs of them). Two requests of
    one user in the same micro-second are rare, so the read comes without ids and is
    repeated with them only when it finds such a pair. The requests' columns are put in
    fold order one at a time, each unsorted one let go at once (memory: issue 13)."""
    name = _events_query(con, lo, hi)
    for exact in (False, True):
        rows = _stream(con, name, lo, hi, exact)
        users, names = _texts(rows)
        n_users = len(users)
        req_cols = rows.columns("req")
        req = user_time_order(req_cols["code"], req_cols["ts"], n_users)
        if exact:
            req = settle_ties(req, req_cols["code"], req_cols["ts"], _ids_of(rows))
        req_user = _sorted(req, req_cols, "code")
        req_ts = _sorted(req, req_cols, "ts")
        if exact or not len(tie_rows(req_user, req_ts)):
            break
    req_cost = _sorted(req, req_cols, "micro")
    action_codes = _sorted(req, req_cols, "name", np.min_scalar_type(-len(names)))
    recorded: dict[str, np.ndarray] = {}
    if rows.recorded:
        recorded = {
            "req_recorded_cost": _sorted(req, req_cols, "recorded_cost"),
            "req_recorded_reason": names[_sorted(req, req_cols, "recorded_reason")],
            "req_recorded_tokens": _sorted(req, req_cols, "recorded_tokens"),
        }
    other = rows.columns("other")
    # Kinds below USER are the events (requests are apart: none of them is here).
    orders = kind_user_time_order(other["kind"], other["code"], other["ts"], USER, n_users)
    rev, clk = orders[REVENUE], orders[CLICK]
    history = History(
        users=users,
        # Categorical: 45 M action names as 45 M Python references cost 0.8 s at 1M users.
        req_user=req_user, req_ts=req_ts,
        req_action=pd.Categorical.from_codes(action_codes, categories=names[:-1]),
        req_cost=req_cost, req_event_id=None,  # ranks: positions (request_ids)
        rev_user=other["code"][rev].astype(np.int64), rev_ts=other["ts"][rev],
        rev_stream=names[other["name"][rev]], rev_amount=other["micro"][rev],
        rev_tokens=other["tokens"][rev], rev_has_tokens=other["has_tokens"][rev],
        rev_event_id=np.arange(len(rev)),
        # After the revenue ranks: at one instant revenue, then clicks, as the fold takes them.
        clk_user=other["code"][clk].astype(np.int64), clk_ts=other["ts"][clk],
        clk_event_id=np.arange(len(rev), len(rev) + len(clk)),
        **recorded,
    )
    history._cache["actions"] = (action_codes, names)
    return history
