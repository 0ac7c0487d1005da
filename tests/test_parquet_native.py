"""A local Parquet file is staged by DuckDB's own reader: every row, verdict and reason is
the Arrow path's (the same file gzipped still goes through Arrow batches)."""

from __future__ import annotations

import gzip
import shutil
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from loaders import pipeline
from loaders.files import file_chunks, load_files
from loaders.pipeline import native_parquet_columns

COST_ROWS = {
    "event_id": ["e1", "e2", "e3", "e3", "", "e5", "e6", "e7", "e8"],
    "user_id": ["+15551230001", "whatsapp:+1 555-123-0002", "+15551230003", "+15551230003",
                "+15551230004", "not a phone", "+15551230006", "+15551230007", "+15551230008"],
    "ts": [datetime(2026, 3, 1, 9), datetime(2026, 3, 1, 10, 0, 0, 500000),
           datetime(2026, 3, 2, 8, 1, 2, 3), datetime(2026, 3, 2, 8, 1, 2, 4),
           datetime(2026, 3, 3), datetime(2026, 3, 3), datetime(1990, 1, 1), None,
           datetime(2026, 3, 4, 23, 59, 59, 999999)],
    "action": ["meal_plan", "", "chat", "chat", "chat", "chat", "chat", "chat", " Chat "],
    "event_type": ["meal_plan_completed", "grocery_list_completed", None, None, None, None,
                   None, None, None],
    "cost_usd": [Decimal("0.083"), Decimal("0.021"), Decimal("0"), Decimal("1"),
                 Decimal("0.01"), Decimal("0.01"), Decimal("0.01"), Decimal("0.01"),
                 Decimal("-0.5")],
    "counted": [True, None, False, True, True, True, True, True, True],
    "category": ["ai", "AI", "messaging", None, "ai", "ai", "weird", "ai", "ai"],
    "details": ['{"model": "x"}', "{not json", None, None, None, None, None, None, "[]"],
}
COST_TYPES = {"ts": pa.timestamp("us"), "cost_usd": pa.decimal128(18, 6)}


def _table(rows: dict, types: dict) -> pa.Table:
    return pa.table({k: pa.array(v, types.get(k)) for k, v in rows.items()})


def _write(table: pa.Table, path: Path) -> tuple[Path, Path]:
    """The file, and the same bytes gzipped (which only the Arrow path reads)."""
    pq.write_table(table, path)
    zipped = path.with_name(path.name + ".gz")
    with open(path, "rb") as src, gzip.open(zipped, "wb") as dst:
        shutil.copyfileobj(src, dst)
    return path, zipped


def _everything(db: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(db), read_only=True) as con:
        out = {t: con.execute(f"SELECT * EXCLUDE (source, load_id) FROM {t} "  # noqa: S608
                              "ORDER BY ALL").fetchall()
               for t in ("cost_events", "revenue_events")}
        out["rejected"] = con.execute("SELECT table_name, raw_record, reason FROM rejected_rows "
                                      "ORDER BY ALL").fetchall()
    return out


def _native(path: Path, table: str) -> bool:
    return any(c.parquet for c in file_chunks(str(path), table, "auto"))


def test_a_typed_file_staged_natively_loads_as_the_arrow_path_does(tmp_path: Path) -> None:
    costs, costs_gz = _write(_table(COST_ROWS, COST_TYPES), tmp_path / "c.parquet")
    revenue = _table({"event_id": ["r1", "r2"], "user_id": ["+15551230001", "+15551230002"],
                      "ts": [datetime(2026, 3, 1, 9, 30), datetime(2026, 3, 1, 9, 31)],
                      "stream": ["tokens", "premium"],
                      "amount_usd": [Decimal("5.000000"), Decimal("9.99")],
                      "tokens": pa.array([100, None], pa.int32())},
                     {"ts": pa.timestamp("us"), "amount_usd": pa.decimal128(12, 4)})
    rev, rev_gz = _write(revenue, tmp_path / "r.parquet")
    assert _native(costs, "cost_events") and _native(rev, "revenue_events")
    assert not _native(costs_gz, "cost_events")
    native, arrow = tmp_path / "native.duckdb", tmp_path / "arrow.duckdb"
    got = load_files(native, {"cost_events": [str(costs)], "revenue_events": [str(rev)]})
    load_files(arrow, {"cost_events": [str(costs_gz)], "revenue_events": [str(rev_gz)]})
    ours, theirs = _everything(native), _everything(arrow)
    assert ours == theirs
    reasons = sorted(r[2].split(":")[0] for r in ours["rejected"])
    assert reasons == ["details is not JSON", "duplicate key within this load",
                       "missing event_id", "missing timestamp", "negative cost",
                       "timestamp out of range",
                       "user is not a phone number"]
    assert (got.rows_read, got.rows_written, got.rows_rejected) == (11, 4, 7)
    # A whole second is staged as Arrow writes it, so the row and its text agree.
    first = next(r for r in ours["cost_events"] if r[0] == "e1")
    assert first[2] == datetime(2026, 3, 1, 9) and first[5] == Decimal("0.083000")
    # The first of two rows with one key wins, in the file's order.
    assert next(r for r in ours["cost_events"] if r[0] == "e3")[5] == Decimal("0")
    # A reload changes nothing.
    again = load_files(native, {"cost_events": [str(costs)], "revenue_events": [str(rev)]})
    assert again.rows_written == 0 and _everything(native) == ours


@pytest.mark.parametrize(("column", "array"), [
    ("cost_usd", pa.array([0.01] * 9, pa.float64())),         # floats: Arrow writes the text
    ("ts", pa.array(COST_ROWS["ts"], pa.timestamp("ms"))),      # another unit
    ("ts", pa.array(COST_ROWS["ts"], pa.timestamp("us", "UTC"))),
    ("User_ID", pa.array(COST_ROWS["user_id"])),                # DuckDB ignores case
])
def test_a_file_the_two_casts_would_write_differently_goes_through_arrow(
        tmp_path: Path, column: str, array: pa.Array) -> None:
    rows = {k: pa.array(v, COST_TYPES.get(k)) for k, v in COST_ROWS.items()}
    rows[column] = array
    path, zipped = _write(pa.table(rows), tmp_path / "c.parquet")
    assert native_parquet_columns(pq.read_schema(path), "cost_events") is None
    assert not _native(path, "cost_events")
    a, b = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    load_files(a, {"cost_events": [str(path)]})
    load_files(b, {"cost_events": [str(zipped)]})
    assert _everything(a) == _everything(b)


def test_a_file_without_a_required_column_refuses_each_row_with_its_reason(
        tmp_path: Path) -> None:
    rows = {k: v for k, v in COST_ROWS.items() if k != "cost_usd"}
    path, _ = _write(_table(rows, COST_TYPES), tmp_path / "c.parquet")
    assert not _native(path, "cost_events")
    db = tmp_path / "x.duckdb"
    got = load_files(db, {"cost_events": [str(path)]})
    assert (got.rows_written, got.rows_rejected) == (0, 9)
    assert {r[2] for r in _everything(db)["rejected"]} == {
        "unknown column set: missing cost_usd"}


def test_the_first_of_two_rows_with_one_key_is_the_files_first_in_a_large_file(
        tmp_path: Path) -> None:
    """Staged in parallel, a file's rows keep its order: the first of each key wins."""
    n = 400_000
    ids = [f"e{i}" for i in range(n)]
    ids[-1] = ids[0] = "dup"
    ids[n // 2] = ids[1] = "dup2"
    table = pa.table({
        "event_id": ids, "user_id": [f"+1555{i % 1000:07d}" for i in range(n)],
        "ts": pa.array([datetime(2026, 3, 1, 9)] * n, pa.timestamp("us")),
        "action": ["chat"] * n,
        "cost_usd": pa.array([Decimal(i) / 1000 for i in range(n)], pa.decimal128(18, 6))})
    path = tmp_path / "big.parquet"
    pq.write_table(table, path, row_group_size=10_000)
    assert _native(path, "cost_events")
    db = tmp_path / "big.duckdb"
    got = load_files(db, {"cost_events": [str(path)]})
    assert (got.rows_written, got.rows_rejected) == (n - 2, 2)
    with duckdb.connect(str(db), read_only=True) as con:
        kept = con.execute("SELECT event_id, cost_usd FROM cost_events "
                           "WHERE event_id LIKE 'dup%' ORDER BY 1").fetchall()
    assert kept == [("dup", Decimal("0")), ("dup2", Decimal("0.001"))]


def test_a_key_in_two_inputs_of_one_table_is_the_first_inputs_in_the_order_given(
        tmp_path: Path) -> None:
    """A table's one Parquet file is read in place, any more inputs copy it first: either
    way the rows keep the order given, and the first of a key wins."""
    def costs(name: str, ids: list[str], cost: str) -> str:
        path = tmp_path / name
        pq.write_table(_table({"event_id": ids, "user_id": ["+15551230001"] * len(ids),
                               "ts": [datetime(2026, 3, 1, 9, i) for i in range(len(ids))],
                               "action": ["chat"] * len(ids),
                               "cost_usd": [Decimal(cost)] * len(ids),
                               "counted": [True] * len(ids)}, COST_TYPES), path)
        return str(path)

    a, b = costs("a.parquet", ["k1", "a2"], "0.1"), costs("b.parquet", ["b2", "k1"], "0.2")
    c = tmp_path / "c.csv"
    c.write_text("event_id,user_id,ts,action,cost_usd,counted\n"
                 "k1,+15551230001,2026-03-01 10:00:00,chat,0.3,true\n")
    for order, cost in (([a, b], "0.100000"), ([b, a], "0.200000"), ([str(c), a], "0.300000"),
                        ([a, str(c)], "0.100000"), ([a], "0.100000")):
        db = tmp_path / f"{len(order)}-{cost}.duckdb"
        db.unlink(missing_ok=True)
        got = load_files(db, {"cost_events": order})
        rows = {r[0]: r for r in _everything(db)["cost_events"]}
        assert rows["k1"][5] == Decimal(cost), order
        assert got.rows_rejected == len(order) - 1


EDGE_TS = [datetime(2000, 1, 1), datetime(1999, 12, 31, 23, 59, 59, 999999),
           datetime(2099, 12, 31, 23, 59, 59, 999999), datetime(2100, 1, 1), None,
           datetime(1000, 1, 1), datetime(999, 12, 31, 23, 0), datetime(1, 1, 1),
           datetime(9999, 12, 31, 23, 59, 59, 999999), datetime(2026, 3, 1, 0, 0, 0, 1)]


@pytest.mark.parametrize("earliest", [None, "0001-01-01"])
@pytest.mark.parametrize(("cost_type", "costs"), [
    (pa.decimal128(18, 6), ["999999999999.999999", "0", "-0.000001", "0.083", "12.5"]),
    (pa.decimal128(20, 8), ["0.12345678", "0.10000000", "1", "-2.5", "0.00000001"]),
    (pa.decimal128(38, 6), ["1234567890123.5", "999999999999.000001", "0.5", "7", "0"]),
    (pa.decimal128(9, 2), ["1234567.89", "-0.01", "0", "0.5", "3.14"]),
])
def test_typed_values_used_as_they_are_give_every_row_and_reason_the_text_gives(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, earliest: str | None,
        cost_type: pa.DataType, costs: list[str]) -> None:
    """At the edges of the accepted instants and of DECIMAL(18, 6), a typed file's own values
    (where pipeline.TYPED_COLUMNS takes them) load exactly as the text of the same file."""
    if earliest:
        monkeypatch.setenv("PROFIT_EARLIEST", earliest)
    n = len(EDGE_TS)
    rows = {"event_id": [f"x{i}" for i in range(n)],
            "user_id": [f"+1555123{i:04d}" for i in range(n)], "ts": EDGE_TS,
            "action": ["chat"] * n, "cost_usd": [Decimal(c) for c in costs * 2],
            "counted": [True] * n}
    path, zipped = _write(_table(rows, {"ts": pa.timestamp("us"), "cost_usd": cost_type}),
                          tmp_path / "c.parquet")
    assert _native(path, "cost_events") and not _native(zipped, "cost_events")
    native, text = tmp_path / "native.duckdb", tmp_path / "text.duckdb"
    got = load_files(native, {"cost_events": [str(path)]})
    load_files(text, {"cost_events": [str(zipped)]})
    assert _everything(native) == _everything(text)
    assert got.rows_written >= 1 and got.rows_rejected >= 1  # loaded and refused rows both


def test_the_typed_twins_are_taken_only_from_types_that_hold_them_exactly() -> None:
    def twins(ts: pa.DataType, cost: pa.DataType) -> list[str]:
        schema = pa.schema([("ts", ts), ("cost_usd", cost)])
        return pipeline._typed_select(schema, "cost_events")

    taken = twins(pa.timestamp("us"), pa.decimal128(18, 6))
    assert not any(t.startswith("NULL") for t in taken)
    assert all(t.startswith("NULL") for t in twins(pa.timestamp("us", "UTC"),
                                                    pa.decimal128(20, 8)))
    assert twins(pa.timestamp("us"), pa.decimal128(38, 6))[1].startswith("NULL")
    assert not twins(pa.timestamp("us"), pa.decimal128(9, 2))[1].startswith("NULL")
    assert pipeline._typed_select(pa.schema([("ts", pa.timestamp("us"))]),
                                  "revenue_events") == []
