"""The weekly report as one CSV: the week's key figures, a blank line, then the user table.

A spreadsheet opens it as one sheet that reads like the report: the figures with this
week, the week before, the change and the target on top, every user below. The user
table keeps the columns and header it always had, so a script finds it after the first
blank line. Numbers are plain (`1234.50`, `73.5`), so a spreadsheet computes with them:
money exact (`fmt_usd`: two decimals or more), % and ratios to two decimals, half up.
UTF-8 with a BOM, for Excel; text a spreadsheet would run as a formula gets a leading `'`.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

from core import formats
from enforcement.money import fmt_usd, to_micro
from report import columns as cols
from report.cells import BOOL, COUNT, MONEY, PCT, RATIO, TEXT, csv_safe, fmt_target, table_values
from report.model import WeeklyReport, kpi_table

KPI_HEADER = ("figure", "key", "unit")  # then the two weeks, change, target, target_met


def _number(kind: str, value: Any) -> str:
    """A figure as a spreadsheet reads a number: exact money, % and ratios as computed."""
    if formats.is_missing(value):
        return ""
    if kind == MONEY:
        return fmt_usd(to_micro(Decimal(str(value))))
    if kind == COUNT:
        return str(int(value))
    if kind in (PCT, RATIO):  # to two decimals, half up, as the xlsx holds them
        return f"{formats.round_half_up(value, 2).normalize():f}"
    return csv_safe(str(value))


def _change(kind: str, now: Any, before: Any) -> str:
    """Money exactly, counts whole, % in points and ratios as core.formats rounds them."""
    if formats.is_missing(now) or formats.is_missing(before):
        return ""
    if kind == MONEY:
        return fmt_usd(to_micro(Decimal(str(now))) - to_micro(Decimal(str(before))))
    diff = formats.change_amount(kind, now, before)
    return "" if diff is None else f"{diff:f}"


def kpi_block(report: WeeklyReport) -> list[list[str]]:
    """The KPI rows: header, then one row per figure of the registry's report rows."""
    rows = [[*KPI_HEADER, report.week, report.previous, "change", "target", "target_met"]]
    for r in kpi_table(report):
        rows.append([csv_safe(r["label"]), r["key"], r["kind"], _number(r["kind"], r["value"]),
                     _number(r["kind"], r["previous"]),
                     _change(r["kind"], r["value"], r["previous"]),
                     csv_safe(fmt_target(r["target"], r["kind"])),
                     "" if r["met"] is None else ("true" if r["met"] else "false")])
    return rows


def user_block(report: WeeklyReport, masked: bool) -> list[list[str]]:
    """The user-level table: the csv header, then one row per user."""
    rows = [[csv_name for _key, csv_name, _label, _kind in cols.USER_COLUMNS]]
    # the csv is for scripts: levels keep their keys (payment_required), as the JSON has them
    for row in table_values(report.users, cols.user_columns(), masked, words=False):
        cells = []
        for value, (_key, _csv, _label, kind) in zip(row, cols.USER_COLUMNS, strict=True):
            if value is None:
                cells.append("")
            elif kind == MONEY:
                cells.append(fmt_usd(to_micro(value)))
            elif kind == BOOL:
                cells.append("true" if value else "false")
            elif kind == TEXT:
                cells.append(csv_safe(value))
            else:
                cells.append(str(value))
        rows.append(cells)
    return rows


def to_csv(report: WeeklyReport, *, masked: bool = True) -> bytes:
    """The key figures, one blank line, the user table (CRLF lines, UTF-8 with BOM)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows(kpi_block(report))
    writer.writerow([])
    writer.writerows(user_block(report, masked))
    return out.getvalue().encode("utf-8-sig")


def split(text: str) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """Read a weekly csv back: (the key figures, the users), each as rows of its header.

    For scripts and tests; `text` is the decoded file (`encoding="utf-8-sig"`). The blocks
    part at the first empty row, so a quoted cell holding a line break stays whole.
    """
    rows = list(csv.reader(io.StringIO(text)))
    blank = rows.index([])
    figures, users = rows[:blank], rows[blank + 1:]
    return ([dict(zip(figures[0], r, strict=True)) for r in figures[1:]],
            [dict(zip(users[0], r, strict=True)) for r in users[1:]])
