"""The report as a file: its format from the name, the bytes of that format, its MIME type.

One entry for the command and the Weekly page's download buttons, so both write the
same bytes for the same week.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from report.csv import to_csv
from report.html import to_html
from report.model import ReportError, WeeklyReport
from report.pdf import to_pdf
from report.xlsx import to_xlsx

FORMATS = ("html", "xlsx", "csv", "pdf")
MIME = {"html": "text/html", "xlsx":
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "csv": "text/csv", "pdf": "application/pdf"}
RENDERERS: dict[str, Callable[..., bytes | str]] = {
    "html": to_html, "xlsx": to_xlsx, "csv": to_csv, "pdf": to_pdf}


def render(report: WeeklyReport, fmt: str, *, masked: bool = True) -> bytes:
    """The report as the bytes of a file of that format."""
    if fmt not in RENDERERS:
        raise ReportError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    data = RENDERERS[fmt](report, masked=masked)
    return data.encode("utf-8") if isinstance(data, str) else data


def file_name(report: WeeklyReport, fmt: str) -> str:
    return f"weekly-report-{report.week}.{fmt}"


def format_of(path: Path) -> str:
    """The format an output path asks for, by its extension; ReportError for any other."""
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise ReportError(f"cannot tell the format from {path.name!r}: end it with "
                          + ", ".join(f".{f}" for f in FORMATS))
    return fmt
