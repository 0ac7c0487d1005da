"""The weekly report as an Excel workbook: numbers as numbers, text never a formula.

Sheets summary, users, streams, costs, opportunities, interventions. Money is written as a
number with a dollar format, so a spreadsheet sums it; every string cell is typed as a
string (a partner named `=HYPERLINK(...)` stays text).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from core import formats
from report import columns as cols
from report.cells import (
    BOOL,
    COUNT,
    FORMULA_STARTS,
    MONEY,
    PCT,
    RATIO,
    TEXT,
    UNIT_MONEY,
    WHEN,
    Columns,
    fmt_count,
    fmt_pct,
    fmt_target,
    show,
    table_values,
)
from report.model import (
    ACCURACY_DEFINITION,
    CATEGORY_DEFINITION,
    ECONOMICS_DEFINITION,
    INTERVENTION_DEFINITION,
    LOSS_DEFINITION,
    TOP_USERS,
    WeeklyReport,
    empty_message,
    heading_lines,
    kpi_table,
    level_rows,
    title,
)

MONEY_FORMAT = '"$"#,##0.00;[Red]-"$"#,##0.00'
UNIT_MONEY_FORMAT = '"$"#,##0.0000;[Red]-"$"#,##0.0000'
PCT_FORMAT = '0.0"%"'
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
SHEETS = ("summary", "users", "streams", "costs", "opportunities", "interventions")


def set_text(cell: Any, text: str) -> None:
    """Write a string cell that is never a formula, whatever it starts with."""
    cell.value = text
    cell.data_type = "s"
    if text.startswith(FORMULA_STARTS):
        cell.quotePrefix = True


class _Sheet:
    """Writes titled blocks of typed cells and keeps each column as wide as its text."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.row = 1
        self.widths: dict[int, int] = {}

    def _put(self, col: int, value: Any, kind: str) -> None:
        cell = self.ws.cell(row=self.row, column=col)
        if value is None:
            text = ""
        elif kind in (MONEY, UNIT_MONEY):
            cell.value = float(value)  # a number: Excel sums it; the format shows dollars
            cell.number_format = MONEY_FORMAT if kind == MONEY else UNIT_MONEY_FORMAT
            text = show(kind, value)
        elif kind == PCT:
            cell.value = round(float(value), 2)
            cell.number_format = PCT_FORMAT
            text = fmt_pct(value)
        elif kind == COUNT:
            cell.value = int(value)
            cell.number_format = "#,##0"
            text = fmt_count(value)
        elif kind == RATIO:
            cell.value = float(value)
            cell.number_format = "0.00"
            text = formats.ratio(value)
        elif kind == BOOL:
            cell.value = bool(value)
            text = "FALSE"
        elif kind == WHEN:
            cell.value = pd.Timestamp(value).to_pydatetime()
            cell.number_format = DATETIME_FORMAT
            text = "2026-03-14 23:30"
        else:
            text = str(value)
            set_text(cell, text)
        self.widths[col] = max(self.widths.get(col, 0), len(text))

    def line(self, text: str, *, bold: bool = False) -> None:
        cell = self.ws.cell(row=self.row, column=1)
        set_text(cell, text)
        if bold:
            cell.font = Font(bold=True, size=13)
        self.row += 1

    def table(self, headers: Sequence[str], rows: Sequence[Sequence[Any]],
              kinds: Sequence[str] | Sequence[Sequence[str]]) -> None:
        """A header row then the rows; `kinds` per column, or per row as a list of lists."""
        for col, header in enumerate(headers, start=1):
            cell = self.ws.cell(row=self.row, column=col)
            set_text(cell, header)
            cell.font = Font(bold=True)
            self.widths[col] = max(self.widths.get(col, 0), len(header))
        self.row += 1
        for i, values in enumerate(rows):
            row_kinds = kinds[i] if kinds and not isinstance(kinds[0], str) else kinds
            for col, (value, kind) in enumerate(zip(values, row_kinds, strict=True), start=1):
                self._put(col, value, kind)
            self.row += 1
        self.row += 1

    def block(self, df: pd.DataFrame, columns: Columns, masked: bool) -> None:
        """A query frame as a table of the given columns."""
        self.table([label for _k, label, _kind in columns], table_values(df, columns, masked),
                   [kind for _k, _label, kind in columns])

    def fit(self) -> None:
        for col, width in self.widths.items():
            self.ws.column_dimensions[get_column_letter(col)].width = min(max(width + 2, 8), 60)


def _summary(sheet: _Sheet, report: WeeklyReport, masked: bool) -> None:
    for text in heading_lines(report, masked):
        sheet.line(text, bold=text == title(report))
    if report.empty:
        sheet.line(empty_message(report))
    sheet.row += 1
    rows = kpi_table(report)
    sheet.table(
        ["Figure", report.week, report.previous, "Target", "Target met"],
        [[r["label"], r["value"], r["previous"], fmt_target(r["target"], r["kind"]), r["met"]]
         for r in rows],
        [[TEXT, r["kind"], r["kind"], TEXT, BOOL] for r in rows])
    sheet.line("Users by level, month to date at the week's end")
    sheet.table(["Level", "Users"], level_rows(report), [TEXT, COUNT])


def _opportunities(sheet: _Sheet, report: WeeklyReport, masked: bool) -> None:
    """The four tables of the cost optimisation section, each under its definition."""
    for heading, definition, df, columns in (
            ("Unit economics per action", ECONOMICS_DEFINITION, report.economics,
             cols.ECONOMICS_COLUMNS),
            ("Categories whose cost grew", CATEGORY_DEFINITION, report.categories,
             cols.CATEGORY_COLUMNS),
            ("Users whose cost exceeds their revenue the most", LOSS_DEFINITION,
             report.loss_users, cols.LOSS_USER_COLUMNS),
            ("Estimated against actual cost per action", ACCURACY_DEFINITION, report.accuracy,
             cols.ACCURACY_COLUMNS)):
        sheet.line(heading, bold=True)
        sheet.line(definition)
        sheet.block(df, columns, masked)


def to_xlsx(report: WeeklyReport, *, masked: bool = True) -> bytes:
    """Sheets summary, users, streams, costs, opportunities, interventions."""
    wb = Workbook()
    summary = _Sheet(wb.active)
    summary.ws.title = "summary"
    _summary(summary, report, masked)
    summary.fit()

    users = _Sheet(wb.create_sheet("users"))
    users.block(report.users, cols.user_columns(), masked)
    users.ws.freeze_panes = "B2"
    users.fit()

    streams = _Sheet(wb.create_sheet("streams"))
    streams.block(report.streams, cols.STREAM_COLUMNS, masked)
    streams.line("Revenue by partner / plan")
    streams.block(report.partners, cols.PARTNER_COLUMNS, masked)
    streams.fit()

    costs = _Sheet(wb.create_sheet("costs"))
    costs.block(report.actions, cols.ACTION_COLUMNS, masked)
    costs.line(f"Top {TOP_USERS} users by cost this week")
    costs.block(report.top_users, cols.TOP_USER_COLUMNS, masked)
    costs.fit()

    opportunities = _Sheet(wb.create_sheet("opportunities"))
    _opportunities(opportunities, report, masked)
    opportunities.fit()  # headings and definitions run across; only tables size a column

    inter = _Sheet(wb.create_sheet("interventions"))
    inter.block(report.interventions, cols.INTERVENTION_COLUMNS, masked)
    inter.line(INTERVENTION_DEFINITION)
    inter.row += 1
    inter.block(report.crossings, cols.CROSSING_COLUMNS, masked)
    inter.fit()
    inter.ws.column_dimensions["A"].width = max(inter.ws.column_dimensions["A"].width, 20)

    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()

