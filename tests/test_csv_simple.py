"""CSV read by Arrow where every line of a block is simple (loaders/csv_simple.py) gives
exactly what the line-by-line reader gives: the same staged values, the same raw lines, the
same refusals with the same line numbers, for any file, in blocks of any size."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loaders import csv_simple, files
from loaders.files import file_chunks, load_files

COLUMNS = ("event_id", "user_id", "ts", "action", "cost_usd", "counted", "details")
EXAMPLES = settings(max_examples=60, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.function_scoped_fixture])
# Values csv.writer writes as a simple field (bare, or quoted with its quotes doubled) ...
SIMPLE = st.one_of(
    st.sampled_from(["", " ", "+15550000001", "2026-03-01 09:00:00", "0.050000", "true",
                     '{"a": 1}', 'say "hi"', "a,b", "é", "\u2028", '"']),
    st.text(alphabet='ab ,"é', max_size=6))
# ... and any value, a line break or a unit separator among them.
VALUE = st.one_of(SIMPLE, st.sampled_from(["x\ny", "x\r\ny", "\r", "\x1f"]),
                  st.text(alphabet='ab ,"\n\r\x1fé', max_size=6))


@st.composite
def csv_files(draw: st.DrawFn) -> bytes:
    """A header and lines: records as csv writes them (quoted where needed), lines of
    another width, blank lines, bytes that are not UTF-8, a BOM, CRLF endings."""
    end = draw(st.sampled_from(["\n", "\r\n"]))
    header = list(COLUMNS)
    if draw(st.integers(0, 9)) == 0:
        header.append("event_id")  # a column named twice
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=end)
    writer.writerow(header)
    for _ in range(draw(st.integers(0, 12))):
        kind = draw(st.sampled_from(["record"] * 8 + ["odd", "width", "blank", "raw"]))
        if kind in ("record", "odd"):
            writer.writerow([draw(SIMPLE if kind == "record" else VALUE) for _ in header])
        elif kind == "width":
            writer.writerow([draw(VALUE) for _ in range(draw(st.integers(1, 9)))])
        elif kind == "blank":
            out.write(draw(st.sampled_from(["", " ", "\r"])) + end)
        else:
            out.write(draw(st.text(alphabet='a,"\r\x00', max_size=8)) + end)
    data = out.getvalue().encode("utf-8")
    if draw(st.integers(0, 9)) == 0:
        at = draw(st.integers(0, len(data)))
        data = data[:at] + b"\xff" + data[at:]
    if draw(st.integers(0, 9)) == 0:
        data = csv_simple.BOM + data
    return data


def _read(path: Path, monkeypatch: pytest.MonkeyPatch, *, block: int, by_arrow: bool
          ) -> tuple[list[dict], list[tuple], int]:
    """The staged rows, the refusals and the records counted, as file_chunks yields them."""
    with monkeypatch.context() as m:
        m.setattr(csv_simple, "BLOCK_BYTES", block)
        if not by_arrow:
            m.setattr(csv_simple, "read_block", lambda *_: None)
        rows, rejects, read = [], [], 0
        for chunk in file_chunks(str(path), "cost_events", "auto"):
            for frame in chunk.frames.values():
                rows.extend(frame.to_pylist())
            rejects.extend(chunk.rejects)
            read += chunk.rows_read
    return rows, rejects, read


@EXAMPLES
@given(data=csv_files(), block=st.sampled_from([16, 64, 1 << 20]))
def test_any_file_reads_the_same_by_arrow_and_line_by_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, data: bytes, block: int) -> None:
    path = tmp_path / "costs.csv"
    path.write_bytes(data)
    try:
        expected = _read(path, monkeypatch, block=block, by_arrow=False)
    except files.LoadError as exc:  # a header that cannot be read fails either way
        with pytest.raises(files.LoadError, match=str(exc).split(":")[0]):
            _read(path, monkeypatch, block=block, by_arrow=True)
        return
    assert _read(path, monkeypatch, block=block, by_arrow=True) == expected


def test_a_simple_file_is_read_by_arrow_alone(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "costs.csv"
    path.write_text("event_id,user_id,ts,action,cost_usd,details\r\n"
                    'a1,+15550000001,2026-03-01 09:00:00,meal_plan,0.050000,"{""k"": 1}"\r\n'
                    "\r\n"
                    "a2,+15550000002,2026-03-02 09:00:00,meal_plan,0.070000,\r\n")

    def line_by_line(*_: object) -> None:
        raise AssertionError("read line by line")

    monkeypatch.setattr(files, "_csv_line_chunks", line_by_line)
    rows, rejects, read = _read(path, monkeypatch, block=1 << 20, by_arrow=True)
    assert read == 2 and rejects == []
    assert [(r["event_id"], r["details"], r["_raw"]) for r in rows] == [
        ("a1", '{"k": 1}', 'a1,+15550000001,2026-03-01 09:00:00,meal_plan,0.050000,'
                           '"{""k"": 1}"'),
        ("a2", None, "a2,+15550000002,2026-03-02 09:00:00,meal_plan,0.070000,")]


def test_a_bad_line_after_simple_blocks_is_refused_with_its_number(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    good = [f"e{i},+1555000{i:04d},2026-03-0{1 + i % 9} 09:00:00,meal_plan,0.0{i % 10}0000,true"
            for i in range(40)]
    lines = ["event_id,user_id,ts,action,cost_usd,counted", *good[:30],
             'e-bad,+15550009999,"2026-03-05 09:00:00,meal_plan', *good[30:]]
    path = tmp_path / "costs.csv"
    path.write_text("\n".join(lines) + "\n")
    monkeypatch.setattr(csv_simple, "BLOCK_BYTES", 400)  # the bad line in a later block
    result = load_files(tmp_path / "p.duckdb", {"cost_events": [str(path)]})
    assert (result.rows_read, result.rows_written, result.rows_rejected) == (41, 40, 1)
    with duckdb.connect(str(tmp_path / "p.duckdb"), read_only=True) as con:
        ((reason,),) = con.execute("SELECT reason FROM rejected_rows").fetchall()
    assert reason == "wrong number of fields: line 32 has 3, the header has 6"


@pytest.mark.parametrize("data", [
    b"event_id,user_id\nx,y\rz,w\n",  # a lone carriage return: Arrow would end a line there
    b"event_id,event_id\na,b\nc,d\n",  # a column named twice: every line refused
    b'event_id,user_id\n"x\ny",z\na,b\n',  # a quoted line break
    b'event_id,user_id\n"x,y\na,b\nc,d\n',  # a stray quote: one line refused, not the rest
    b"event_id,user_id\na\x00,b\nc,d\n",  # a NUL
    b"event_id,user_id\na\x1f,b\nc,d\n",  # the unit separator Arrow's line split uses
    b"event_id,user_id\na\xff,b\nc,d\n",  # not UTF-8
    b"\xef\xbb\xbfevent_id,user_id\r\n\r\na,\r\n,d\r\n",  # a BOM, CRLF, a blank line
])
@pytest.mark.parametrize("block", [16, 1 << 20])
def test_each_kind_of_line_reads_the_same_by_arrow_and_line_by_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, data: bytes, block: int) -> None:
    path = tmp_path / "costs.csv"
    path.write_bytes(data)
    expected = _read(path, monkeypatch, block=block, by_arrow=False)
    assert expected[2] >= 1  # (each file holds a record or more)
    assert _read(path, monkeypatch, block=block, by_arrow=True) == expected
