"""CSV files of simple lines, read by Arrow's CSV reader instead of Python's `csv` module.

Most exports are plain: UTF-8, one record a line, each field bare (no quote, comma or
line break in it) or quoted whole with its quotes doubled, every line as wide as the header.
For such a file Arrow's reader gives exactly the fields `csv.reader` gives, and each line
is its record's raw text, so a value the loading path refuses keeps its line as evidence.
Any other file (a quoted line break, a stray quote, a line of another width, a byte that is
not UTF-8, a NUL, a lone carriage return, a header naming a column twice) is read by
`loaders/files.py`, which refuses each bad line with its number and loads the rest. The
file is read in blocks of whole lines: from the first block that is not simple on, it is
read line by line (the blocks before it held whole records, so nothing is read twice).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import IO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

BLOCK_BYTES = 16 << 20  # whole lines, checked and read at once
BOM = b"\xef\xbb\xbf"
_FIELD = r'(?:[^",\r\n]*|"(?:[^"]|"")*")'
SIMPLE_LINE = rf"^{_FIELD}(?:,{_FIELD})*$"
LINE_ONLY = "\x1f"  # a delimiter no simple line has: Arrow then reads each line whole


def blocks(fh: IO[bytes]) -> Iterator[bytes]:
    """A stream's bytes in blocks of whole lines (the first one's BOM dropped)."""
    rest, first = b"", True
    while data := fh.read(BLOCK_BYTES):
        data = rest + data
        if first:
            data, first = data.removeprefix(BOM), False
        cut = data.rfind(b"\n") + 1
        rest = data[cut:]
        if cut:
            yield data[:cut]
    if rest:
        yield rest


def _lines(block: bytes) -> pa.Array | None:
    """The block's non-empty lines without their line ending, or None where one is not
    simple text (not UTF-8, a NUL or a unit separator, a carriage return not before its
    line feed). Arrow splits them: its CSV reader with one column (0.48 s where splitting
    the text took 1.07 s, for 0.9 M lines)."""
    try:
        text = block.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if "\x00" in text or LINE_ONLY in text or text.count("\r") != text.count("\r\n"):
        return None
    lines = pacsv.read_csv(
        pa.py_buffer(block),
        read_options=pacsv.ReadOptions(column_names=["line"], block_size=_arrow_block(block)),
        parse_options=pacsv.ParseOptions(delimiter=LINE_ONLY, quote_char=False,
                                         escape_char=False, ignore_empty_lines=True),
        convert_options=pacsv.ConvertOptions(column_types={"line": pa.string()},
                                             strings_can_be_null=False, check_utf8=False))
    return lines.column(0).combine_chunks()


def _arrow_block(block: bytes) -> int:
    """Arrow's block size for these bytes: its default 1 MB (blocks read in parallel), or
    more where a line is longer (a line may not straddle two)."""
    ends = np.flatnonzero(np.frombuffer(block, np.uint8) == ord("\n"))
    longest = int(np.diff(ends, prepend=-1, append=len(block)).max()) if len(block) else 0
    return max(1 << 20, longest + 2)


def _after_header(block: bytes) -> bytes:
    """The block's bytes after its first non-empty line (the header)."""
    pos = 0
    while True:
        end = block.find(b"\n", pos)
        if end < 0:
            return b""
        if block[pos:end].rstrip(b"\r"):
            return block[end + 1:]
        pos = end + 1


def read_block(block: bytes, header: list[str] | None, evidence_chars: int
               ) -> tuple[list[str] | None, pa.Table | None] | None:
    """(the header, the block's records) where every line of the block is simple, else None.

    `header` is the file's (None until a block held it; this block's first line then).
    The records are text columns and `_raw`, each line as it came (at most
    `evidence_chars` characters); an empty field is null, as files.py makes it.
    """
    lines = _lines(block)
    if lines is None:
        return None
    quoted = lines.filter(pc.match_substring(lines, '"'))  # (a line without is simple)
    if len(quoted) and not pc.all(pc.match_substring_regex(quoted, SIMPLE_LINE)).as_py():
        return None
    if header is None:
        if not len(lines):
            return None, None
        header = [f.strip() for f in next(csv.reader([lines[0].as_py()]))]
        if len(set(header)) < len(header):
            return None
        block, lines = _after_header(block), lines[1:]
    if not len(lines):
        return header, None
    wrong: list[int] = []

    def other_width(row: pacsv.InvalidRow) -> str:
        wrong.append(row.actual_columns)
        return "skip"

    table = pacsv.read_csv(
        pa.py_buffer(block),
        read_options=pacsv.ReadOptions(column_names=header, block_size=_arrow_block(block)),
        parse_options=pacsv.ParseOptions(newlines_in_values=False, ignore_empty_lines=True,
                                         invalid_row_handler=other_width),
        convert_options=pacsv.ConvertOptions(  # an empty field, quoted or not, is null
            column_types=dict.fromkeys(header, pa.string()), null_values=[""],
            strings_can_be_null=True, quoted_strings_can_be_null=True))
    if wrong or table.num_rows != len(lines):
        return None
    if pc.max(pc.binary_length(lines)).as_py() > evidence_chars:  # (bytes ≥ characters)
        lines = pc.utf8_slice_codeunits(lines, 0, evidence_chars)
    return header, pa.table([*table.columns, lines], names=[*header, "_raw"])
