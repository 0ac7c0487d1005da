"""Fuzzing the file loader (issue 16): one mutated row or item never costs the others.

For each format a valid file of five rows is written, one row is mutated (bytes,
types, encodings, extra or missing fields), and the load must:
- finish (status ok, nothing raised), never fail as a whole;
- load every other row, exactly;
- load the mutated row by the contract's rules or refuse it with a reason, so that
  rows read = rows written + rows refused (nothing lost silently).
"""

from __future__ import annotations

import base64
import csv
import io
import json
import re
import tempfile
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loaders.files import load_files
from loaders.pipeline import LoadResult

COLUMNS = ("event_id", "user_id", "ts", "action", "event_type", "cost_usd", "counted",
           "category")
# Ids of a fixed length with distinct tails: no edit of one row can spell another's.
ROWS = [
    {"event_id": f"id-{i}-{tag}", "user_id": f"+1555000{i:04d}",
     "ts": f"2026-03-0{i + 1}T09:00:0{i}.12345{i}", "action": "meal_plan",
     "event_type": "meal_plan_completed", "cost_usd": f"0.0{i + 1}000{i}", "counted": "true",
     "category": "ai"}
    for i, tag in enumerate(("k3f9", "q8w2", "z7x1", "m4n6", "p0v5"))]
EXAMPLES = settings(max_examples=25, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.function_scoped_fixture])

# Any text, including what CSV and JSON treat specially, and every kind of Unicode.
TEXT = st.one_of(
    st.text(max_size=30),
    st.sampled_from(['"', '""', ",", "\n", "\r", "\r\n", "\\", "\x00", "\ufeff", "\ud800",
                     "{", "[", "]", "}", "1e13", "-0.0000001", "NaN", "infinity", "null",
                     "whatsapp:+1 (555) 000-0001", "2026-02-30T25:61:00", "９"]),
    st.integers(-10 ** 30, 10 ** 30).map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str))
ANY_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-10 ** 40, 10 ** 40) | st.text(max_size=10)
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                max_size=3),
    max_leaves=6)


def _check(db_dir: Path, files: dict[str, list[str]], mutated: int, fmt: str = "auto",
           gone: bool = False) -> LoadResult:
    """The loader's promise for one mutated file (`mutated` -1: none is; `gone`: the
    mutation left a blank line, no row at all)."""
    db = db_dir / "p.duckdb"
    result = load_files(db, files, fmt=fmt)
    assert result.status == "ok"
    assert result.rows_read == result.rows_written + result.rows_rejected
    con = duckdb.connect(str(db), read_only=True)
    try:
        loaded = {r[0]: r[1:] for r in con.execute(
            "SELECT event_id, user_id, ts, cost_usd FROM cost_events").fetchall()}
        refused = con.execute("SELECT reason, raw_record FROM rejected_rows").fetchall()
    finally:
        con.close()
    for i, row in enumerate(ROWS):
        if i == mutated:
            continue
        key = row["event_id"] if fmt != "dynamodb-json" else _ddb_id(row)
        assert key in loaded, (key, refused)
        user, ts, cost = loaded[key]
        assert (user, cost) == (row["user_id"], Decimal(row["cost_usd"]))
        assert ts == datetime.fromisoformat(row["ts"])
    # The mutated one loaded or was refused (unless the mutation left nothing of it).
    assert len(loaded) + len(refused) >= len(ROWS) - gone
    assert all(reason and raw is not None for reason, raw in refused)
    for user, ts, cost in loaded.values():  # whatever loaded obeys the contract
        assert re.fullmatch(r"\+\d+", user)
        assert datetime(2000, 1, 1) <= ts < datetime(2100, 1, 1)
        assert cost >= 0 and cost == cost.quantize(Decimal("0.000001"))
    return result


def _mutate_bytes(line: bytes, data: st.DataObject) -> bytes:
    """The line's bytes changed; its terminator kept (dropping it would merge two rows
    into one line, which no reader can split back)."""
    body = line.removesuffix(b"\n")
    kind = data.draw(st.sampled_from(["replace", "insert", "delete", "encode"]))
    if kind == "encode":  # the row in another encoding
        text = body.decode("utf-8").replace("555", "5\u00e95")
        codec = data.draw(st.sampled_from(["latin-1", "utf-16", "cp1252", "utf-8-sig"]))
        return text.encode(codec, "replace") + b"\n"
    at = data.draw(st.integers(0, max(len(body) - 1, 0)))
    if kind == "delete":
        end = data.draw(st.integers(at, len(body)))
        return body[:at] + body[end:] + b"\n"
    chunk = data.draw(st.binary(min_size=1, max_size=6))
    if kind == "insert":
        return body[:at] + chunk + body[at:] + b"\n"
    return body[:at] + chunk + body[at + len(chunk):] + b"\n"


def _mutate_fields(row: dict[str, Any], data: st.DataObject) -> dict[str, Any]:
    row = dict(row)
    kind = data.draw(st.sampled_from(["value", "missing", "extra", "type"]))
    column = data.draw(st.sampled_from(COLUMNS))
    if kind == "value":
        row[column] = data.draw(TEXT)
    elif kind == "missing":
        row.pop(column)
    elif kind == "extra":
        row[data.draw(st.text(min_size=1, max_size=8))] = data.draw(ANY_JSON)
    else:
        row[column] = data.draw(ANY_JSON)
    return row


# -- CSV ---------------------------------------------------------------------------------------
def _csv_line(row: dict[str, Any]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(
        [row.get(c, "") if isinstance(row.get(c, ""), str) else json.dumps(row.get(c))
         for c in COLUMNS] + [str(v) for k, v in row.items() if k not in COLUMNS])
    return out.getvalue().encode("utf-8", "surrogatepass")


@EXAMPLES
@given(data=st.data())
def test_csv_one_mutated_row_never_costs_the_others(data: st.DataObject) -> None:
    mutated = data.draw(st.integers(0, len(ROWS) - 1))
    lines = [_csv_line(r) for r in ROWS]
    if data.draw(st.booleans()):
        lines[mutated] = _mutate_bytes(lines[mutated], data)
    else:
        lines[mutated] = _csv_line(_mutate_fields(ROWS[mutated], data))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "costs.csv"
        path.write_bytes((",".join(COLUMNS) + "\n").encode() + b"".join(lines))
        _check(Path(tmp), {"cost_events": [str(path)]}, mutated,
               gone=not lines[mutated].strip())


# -- JSON Lines --------------------------------------------------------------------------------
def _json_line(row: dict[str, Any]) -> bytes:
    return json.dumps(row).encode() + b"\n"


@EXAMPLES
@given(data=st.data())
def test_jsonl_one_mutated_line_never_costs_the_others(data: st.DataObject) -> None:
    mutated = data.draw(st.integers(0, len(ROWS) - 1))
    lines = [_json_line(r) for r in ROWS]
    choice = data.draw(st.sampled_from(["bytes", "fields", "shape"]))
    if choice == "bytes":
        lines[mutated] = _mutate_bytes(lines[mutated], data)
    elif choice == "fields":
        lines[mutated] = _json_line(_mutate_fields(ROWS[mutated], data))
    else:  # not an object at all: an array, a number, a string, deep nesting
        lines[mutated] = json.dumps(data.draw(ANY_JSON)).encode() + b"\n" if data.draw(
            st.booleans()) else b"[" * 3000 + b"]" * 3000 + b"\n"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "costs.jsonl"
        path.write_bytes(b"".join(lines))
        _check(Path(tmp), {"cost_events": [str(path)]}, mutated,
               gone=not lines[mutated].strip())


# -- Parquet -----------------------------------------------------------------------------------
@EXAMPLES
@given(data=st.data())
def test_parquet_one_mutated_value_never_costs_the_others(data: st.DataObject) -> None:
    mutated = data.draw(st.integers(0, len(ROWS) - 1))
    column = data.draw(st.sampled_from(COLUMNS))
    value = data.draw((st.none() | st.text(max_size=30) | TEXT).filter(
        lambda v: v is None or "\ud800" not in v))  # Arrow holds UTF-8 only
    kind = data.draw(st.sampled_from(["string", "large_string", "binary", "dictionary"]))
    columns: dict[str, Any] = {}
    for c in COLUMNS:
        values = [r[c] for r in ROWS]
        if c == column:
            values[mutated] = value
        if kind == "binary" and c == column:
            columns[c] = pa.array([None if v is None else v.encode("utf-8", "replace")
                                   for v in values], pa.binary())
        elif kind == "large_string" and c == column:
            columns[c] = pa.array(values, pa.large_string())
        elif kind == "dictionary" and c == column:
            columns[c] = pa.array(values, pa.string()).dictionary_encode()
        else:
            columns[c] = pa.array(values, pa.string())
    if data.draw(st.booleans()):
        columns["extra"] = pa.array([1.5, None, 3.0, 4.25, 5.0])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "costs.parquet"
        pq.write_table(pa.table(columns), path)
        _check(Path(tmp), {"cost_events": [str(path)]}, mutated)


# -- DynamoDB JSON -----------------------------------------------------------------------------
def _ddb_item(row: dict[str, Any]) -> dict[str, Any]:
    return {"user_phone": {"S": row["user_id"]}, "timestamp": {"S": row["ts"]},
            "event_type": {"S": row["event_type"]}, "actual_cost": {"N": row["cost_usd"]},
            "cost_details": {"M": {"category": {"S": "ai"}}},
            "month": {"S": row["ts"][:7]}, "ttl": {"N": "1780000000"}}


def _ddb_id(row: dict[str, Any]) -> str:
    return f"costs:{row['user_id']}#{row['ts']}"


TYPED = st.deferred(lambda: st.one_of(
    st.builds(lambda s: {"S": s}, st.text(max_size=10)),
    st.builds(lambda s: {"N": s}, TEXT),
    st.builds(lambda b: {"B": base64.b64encode(b).decode()}, st.binary(max_size=8)),
    st.builds(lambda s: {"B": s}, st.text(max_size=8)),
    st.builds(lambda b: {"BOOL": b}, st.booleans()),
    st.just({"NULL": True}),
    st.builds(lambda v: {"L": v}, st.lists(TYPED, max_size=2)),
    st.builds(lambda v: {"M": v}, st.dictionaries(st.text(max_size=4), TYPED, max_size=2)),
    st.builds(lambda v: {"NS": v}, st.lists(TEXT, max_size=2)),
    st.builds(lambda v: {"SS": v}, st.lists(st.text(max_size=4), max_size=2)),
    ANY_JSON))


@EXAMPLES
@given(data=st.data())
def test_dynamodb_json_one_mutated_item_never_costs_the_others(data: st.DataObject) -> None:
    mutated = data.draw(st.integers(0, len(ROWS) - 1))
    items = [_ddb_item(r) for r in ROWS]
    lines = [json.dumps({"Item": it}).encode() + b"\n" for it in items]
    choice = data.draw(st.sampled_from(["bytes", "attribute", "missing", "item"]))
    item = dict(items[mutated])
    if choice == "attribute":  # a new or replaced attribute of any type, binaries included
        name = data.draw(st.sampled_from([*item, "avatar", "profile"]))
        item[name] = data.draw(TYPED)
    elif choice == "missing":
        item.pop(data.draw(st.sampled_from(sorted(item))))
    if choice == "bytes":
        lines[mutated] = _mutate_bytes(lines[mutated], data)
    elif choice == "item":
        lines[mutated] = json.dumps({"Item": data.draw(ANY_JSON)}).encode() + b"\n"
    else:
        lines[mutated] = json.dumps({"Item": item}).encode() + b"\n"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "costs.json"
        path.write_bytes(b"".join(lines))
        _check(Path(tmp), {"cost_events": [str(path)]}, mutated, fmt="dynamodb-json",
               gone=not lines[mutated].strip())


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet", "dynamodb-json"])
def test_the_unmutated_files_load_all_five_rows(tmp_path: Path, fmt: str) -> None:
    """The baseline the fuzz tests mutate: five rows, all loaded, exactly."""
    path = tmp_path / {"csv": "c.csv", "jsonl": "c.jsonl", "parquet": "c.parquet",
                       "dynamodb-json": "c.json"}[fmt]
    if fmt == "csv":
        path.write_bytes((",".join(COLUMNS) + "\n").encode()
                         + b"".join(_csv_line(r) for r in ROWS))
    elif fmt == "jsonl":
        path.write_bytes(b"".join(_json_line(r) for r in ROWS))
    elif fmt == "parquet":
        pq.write_table(pa.table({c: [r[c] for r in ROWS] for c in COLUMNS}), path)
    else:
        path.write_bytes(b"".join(json.dumps({"Item": _ddb_item(r)}).encode() + b"\n"
                                  for r in ROWS))
    result = _check(tmp_path, {"cost_events": [str(path)]}, mutated=-1,
                    fmt="dynamodb-json" if fmt == "dynamodb-json" else "auto")
    assert (result.rows_read, result.rows_written, result.rows_rejected) == (5, 5, 0)


COLUMN_VALUES = st.one_of(
    st.lists(st.none() | TEXT, max_size=8),                                  # text
    st.lists(st.none() | st.integers(-10 ** 30, 10 ** 30)
             | st.decimals(allow_nan=False, allow_infinity=False), max_size=8),  # numbers
    st.lists(st.none() | st.booleans(), max_size=8),                          # flags
    st.lists(st.none() | ANY_JSON | st.decimals(), max_size=8))                # anything


@settings(max_examples=300, deadline=None)
@given(COLUMN_VALUES)
def test_a_json_column_is_written_as_each_of_its_values_would_be(values: list[Any]) -> None:
    """The loader turns a JSON Lines column into text a whole column at once where it can
    (all text, all numbers, all flags): the same text as value by value."""
    from loaders.pipeline import _text, _text_column

    assert _text_column(values).to_pylist() == [_text(v) for v in values]
