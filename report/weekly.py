"""The weekly profitability report: one command for cron, the same files from the Weekly page.

    python -m dashboard.report weekly --db PATH --week 2026-W11 [--timezone TZ]
        [--policy FILE] --out FILE [--unmasked]

The format comes from the extension: `.html` (self-contained, Plotly inlined), `.xlsx`
(one sheet each: summary, users, streams, costs, interventions), `.csv` (the user-level
table) or `.pdf` (the HTML printed by headless Debian Chromium). Every number comes from
the query layer (`queries.kpis`, `queries.weekly`) through `build_weekly`, which the page
calls too, so the page, the files and cron agree to the cent. No Streamlit here: the
building and rendering functions are pure (PDF aside, which runs Chromium).
"""

from __future__ import annotations

import argparse
import csv
import html
import io
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from plotly.offline import get_plotlyjs

from core import formats, metrics, settings, targets
from core.privacy import mask_phone
from core.targets import Target
from enforcement.policy import Policy, PolicyError, load_policy
from queries import kpis as kpi_layer
from queries import weekly
from report import charts

FORMATS = ("html", "xlsx", "csv", "pdf")
MIME = {"html": "text/html", "xlsx":
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "csv": "text/csv", "pdf": "application/pdf"}
HTML_USER_ROWS = 2_000      # the HTML/PDF show this many users; xlsx and csv hold them all
TOP_USERS = 10
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
MONEY_FORMAT = '"$"#,##0.00;[Red]-"$"#,##0.00'
PCT_FORMAT = '0.0"%"'
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run")

INTERVENTION_DEFINITION = (
    "A user crosses a threshold at the counted cost event that takes their month-to-date "
    "cost (calendar month, reporting timezone) from at most the threshold to above it. "
    "Counted: first crossings whose instant falls in the week, once per user and threshold. "
    "Paid: their tokens + premium revenue (refunds netted) from the crossing to 7 days after "
    "it sums to more than $0; the amount is that sum. 'Window open': the data does not yet "
    "reach 7 days after the crossing, so the user may still pay.")

# Kinds of cell: how each value is shown, written and compared.
MONEY, COUNT, PCT, RATIO = formats.USD, formats.COUNT, formats.PCT, formats.RATIO
TEXT, BOOL, WHEN = "text", "bool", "datetime"


class ReportError(Exception):
    """A report that cannot be made as asked; the message says what to do."""


# -- targets --------------------------------------------------------------------------------

def weekly_targets(launch: date | None, week_end: date) -> dict[str, Target]:
    """The targets that judge a week (core.targets at the week grain: ratios, not monthly
    sums), with the settings' overrides; users_at_target_pct by the business's month."""
    age = 1 if launch is None else targets.month_number(f"{launch:%Y-%m}", f"{week_end:%Y-%m}")
    found = {m.key: targets.for_grain(m.key, "week", age) for m in metrics.report_rows()}
    return {k: t for k, t in found.items() if t is not None}


def target_met(value: Any, target: Target | None) -> bool | None:
    """True or False against the target; None when there is no target or no value."""
    return None if target is None else target.met(value)


# -- the report's content -----------------------------------------------------------------

def kpi_rows() -> tuple[tuple[str, str, str], ...]:
    """(key, label, kind) of the KPI table: the registry's report rows (core.metrics)."""
    return tuple((m.key, m.label, m.unit) for m in metrics.report_rows())


# (column of queries.weekly.user_table, csv header, label, kind) of the user-level table.
USER_COLUMNS: tuple[tuple[str, str, str, str], ...] = (
    ("user_id", "phone", "Phone", TEXT),
    ("level", "level_mtd", "Level (MTD)", TEXT),
    ("at_target", "at_target_mtd", "At target (MTD)", BOOL),
    ("requests", "requests", "Requests", COUNT),
    ("cost_micro", "cost_usd", "Cost", MONEY),
    ("revenue_micro", "revenue_usd", "Revenue", MONEY),
    ("profit_micro", "profit_usd", "Profit", MONEY),
    ("mtd_cost_micro", "mtd_cost_usd", "Cost MTD", MONEY),
    ("mtd_revenue_micro", "mtd_revenue_usd", "Revenue MTD", MONEY),
    ("mtd_profit_micro", "mtd_profit_usd", "Profit MTD", MONEY),
    ("token_balance", "token_balance", "Token balance", COUNT),
    ("payments", "payments", "Payments", COUNT),
    ("partners", "partners", "Partners / plans", TEXT),
)

STREAM_COLUMNS = (
    ("stream", "Stream", TEXT), ("revenue_micro", "Revenue", MONEY),
    ("prev_revenue_micro", "Week before", MONEY), ("change_micro", "Change", MONEY),
    ("payers", "Payers", COUNT), ("prev_payers", "Payers week before", COUNT),
    ("payments", "Payments", COUNT), ("refunds_micro", "Refunds", MONEY),
)
PARTNER_COLUMNS = (
    ("stream", "Stream", TEXT), ("partner", "Partner / plan", TEXT),
    ("revenue_micro", "Revenue", MONEY), ("prev_revenue_micro", "Week before", MONEY),
    ("users", "Users", COUNT),
)
ACTION_COLUMNS = (
    ("action", "Action", TEXT), ("cost_micro", "Cost", MONEY),
    ("prev_cost_micro", "Week before", MONEY), ("change_micro", "Change", MONEY),
    ("share_pct", "Share of cost", PCT), ("events", "Events", COUNT),
    ("users", "Users", COUNT),
)
TOP_USER_COLUMNS = (
    ("user_id", "Phone", TEXT), ("cost_micro", "Cost", MONEY),
    ("revenue_micro", "Revenue", MONEY), ("profit_micro", "Profit", MONEY),
    ("requests", "Requests", COUNT), ("level", "Level (MTD)", TEXT),
)
INTERVENTION_COLUMNS = (
    ("threshold", "Threshold crossed", TEXT), ("threshold_micro", "Month-to-date cost above",
                                               MONEY),
    ("crossed", "Users who crossed", COUNT), ("paid", "Paid within 7 days", COUNT),
    ("paid_pct", "Share who paid", PCT), ("paid_micro", "Amount paid", MONEY),
    ("window_open", "Window still open", COUNT),
)
CROSSING_COLUMNS = (
    ("threshold", "Threshold", TEXT), ("user_id", "Phone", TEXT),
    ("crossed_at_local", "Crossed at (local)", WHEN), ("paid", "Paid within 7 days", BOOL),
    ("paid_micro", "Tokens + premium paid", MONEY),
    ("window_complete", "Window complete", BOOL),
)


@dataclass
class WeeklyReport:
    """Everything one weekly report shows, from the query layer, before any formatting."""

    week: str
    previous: str
    label: str
    timezone: str
    policy: Policy
    kpis: dict[str, Any]
    prev_kpis: dict[str, Any]
    targets: dict[str, Target]
    users: pd.DataFrame
    streams: pd.DataFrame
    partners: pd.DataFrame
    actions: pd.DataFrame
    interventions: pd.DataFrame
    crossings: pd.DataFrame
    generated: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))

    @property
    def empty(self) -> bool:
        """No cost or revenue event in the week."""
        return self.users.empty

    @property
    def top_users(self) -> pd.DataFrame:
        return weekly.top_users_by_cost(self.users, TOP_USERS)


def build_weekly(con: duckdb.DuckDBPyConnection, *, week: str, tz: str, policy: Policy
                 ) -> WeeklyReport:
    """Gather the week's figures from the query layer (KPIs for the week and the one before)."""
    bounds = weekly.week_bounds(week, tz)
    span = kpi_layer.data_span(con, tz)
    launch = span[0] if span else None
    crossings = weekly.intervention_detail(con, week=bounds.week, tz=tz, policy=policy)
    crossings["crossed_at_local"] = [_local(ts, tz) for ts in crossings["crossed_at"]]
    return WeeklyReport(
        week=bounds.week, previous=bounds.previous, label=bounds.period.label, timezone=tz,
        policy=policy,
        kpis=kpi_layer.kpis(con, "week", bounds.week, tz, policy),
        prev_kpis=kpi_layer.kpis(con, "week", bounds.previous, tz, policy),
        targets=weekly_targets(launch, bounds.period.last_day),
        users=weekly.user_table(con, week=bounds.week, tz=tz, policy=policy),
        streams=weekly.stream_performance(con, week=bounds.week, tz=tz),
        partners=weekly.partner_performance(con, week=bounds.week, tz=tz),
        actions=weekly.cost_by_action(con, week=bounds.week, tz=tz),
        interventions=weekly.intervention_summary(crossings, policy),
        crossings=crossings,
    )


def _local(ts: Any, tz: str) -> datetime:
    """A stored naive-UTC instant as naive local time in the reporting timezone."""
    return pd.Timestamp(ts).tz_localize("UTC").tz_convert(tz).tz_localize(None).to_pydatetime()


# -- values as shown ----------------------------------------------------------------------------

def to_usd(micro: Any) -> Decimal | None:
    """Integer micro-dollars as an exact Decimal (None stays None)."""
    if micro is None or pd.isna(micro):
        return None
    return kpi_layer.usd(int(micro))


fmt_money = formats.money  # the one format of every surface (core.formats)
fmt_pct = formats.pct
fmt_count = formats.count


def fmt_change(kind: str, now: Any, before: Any) -> str:
    """The change from the week before: money and counts as a difference, ratios in points."""
    return formats.change(kind, now, before) or formats.MISSING


def fmt_target(target: Target | None, kind: str = "") -> str:
    return target.bound if target is not None else ""


def show(kind: str, value: Any) -> str:
    """One cell's text in the HTML and the page."""
    if kind == MONEY:
        return fmt_money(value)
    if kind == PCT:
        return fmt_pct(value)
    if kind == COUNT:
        return fmt_count(value)
    if kind == RATIO:
        return formats.ratio(value)
    if kind == BOOL:
        return "–" if value is None or pd.isna(value) else ("yes" if value else "no")
    if kind == WHEN:
        return "" if value is None else f"{pd.Timestamp(value):%Y-%m-%d %H:%M}"
    return "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)


def phone(value: str, masked: bool) -> str:
    return mask_phone(value) if masked else str(value)


def table_values(df: pd.DataFrame, columns: Sequence[tuple[str, str, str]], masked: bool
                 ) -> list[list[Any]]:
    """Rows of typed values (Decimal money, int counts, str text) for any renderer."""
    rows = []
    for record in df.to_dict("records"):
        row = []
        for key, _label, kind in columns:
            value = record.get(key)
            if key == "user_id":
                value = phone(value, masked)
            elif kind == MONEY:
                value = to_usd(value)
            elif kind == COUNT:
                value = None if value is None or pd.isna(value) else int(value)
            elif kind == PCT:
                value = None if value is None or pd.isna(value) else float(value)
            elif kind == BOOL:
                value = None if value is None or pd.isna(value) else bool(value)
            elif kind == TEXT:
                value = "" if value is None or (isinstance(value, float) and pd.isna(value)) \
                    else str(value)
            row.append(value)
        rows.append(row)
    return rows


def display_frame(df: pd.DataFrame, columns: Sequence[tuple[str, str, str]], masked: bool = True
                  ) -> pd.DataFrame:
    """A table for the page's `st.dataframe`: labelled columns, phones masked, money as
    dollars (floats for sorting and display only; the files keep exact values).
    Vectorised, so a week of 100,000 users stays quick."""
    out = pd.DataFrame(index=df.index)
    for key, label, kind in columns:
        col = df[key] if key in df.columns else pd.Series(None, index=df.index, dtype=object)
        if key == "user_id":
            col = col.map(lambda u: phone(u, masked))
        elif kind == MONEY:
            col = col.astype("Float64") / 1_000_000
        elif kind == COUNT:
            col = col.astype("Int64")
        elif kind == PCT:
            col = col.astype("Float64")
        elif kind == BOOL:
            col = col.astype("boolean")
        elif kind == TEXT:
            col = col.astype(object).where(col.notna(), "").astype(str)
        out[label] = col
    return out.reset_index(drop=True)


def user_columns() -> list[tuple[str, str, str]]:
    return [(key, label, kind) for key, _csv, label, kind in USER_COLUMNS]


def kpi_table(report: WeeklyReport) -> list[dict[str, Any]]:
    """The KPI rows: key, label, kind, this week, the week before, target and whether met."""
    rows = []
    for key, label, kind in kpi_rows():
        target = report.targets.get(key)
        now = report.kpis.get(key)
        rows.append({"key": key, "label": label, "kind": kind, "value": now,
                     "previous": report.prev_kpis.get(key), "target": target,
                     "met": target_met(now, target)})
    return rows


def level_rows(report: WeeklyReport) -> list[tuple[str, int]]:
    """Users per level month to date at the week's end (the KPI layer's users_by_level)."""
    return list(report.kpis["users_by_level"].items())


# -- safe text for spreadsheets -------------------------------------------------------------

def csv_safe(text: str) -> str:
    """A text cell a spreadsheet would run as a formula gets a leading `'` (OWASP advice)."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _set_text(cell: Any, text: str) -> None:
    """Write a string cell that is never a formula, whatever it starts with."""
    cell.value = text
    cell.data_type = "s"
    if text.startswith(FORMULA_STARTS):
        cell.quotePrefix = True


# -- CSV -------------------------------------------------------------------------------------

def to_csv(report: WeeklyReport, *, masked: bool = True) -> bytes:
    """The user-level table; money as exact decimal strings (UTF-8 with BOM, for Excel)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([csv_name for _key, csv_name, _label, _kind in USER_COLUMNS])
    for row in table_values(report.users, user_columns(), masked):
        cells = []
        for value, (_key, _csv, _label, kind) in zip(row, USER_COLUMNS, strict=True):
            if value is None:
                cells.append("")
            elif kind == MONEY:
                cells.append(kpi_layer.fmt_usd(kpi_layer.to_micro(value)))
            elif kind == BOOL:
                cells.append("true" if value else "false")
            elif kind == TEXT:
                cells.append(csv_safe(value))
            else:
                cells.append(str(value))
        writer.writerow(cells)
    return out.getvalue().encode("utf-8-sig")


# -- XLSX ------------------------------------------------------------------------------------

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
        elif kind == MONEY:
            cell.value = float(value)  # a number: Excel sums it; the format shows dollars
            cell.number_format = MONEY_FORMAT
            text = fmt_money(value)
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
            _set_text(cell, text)
        self.widths[col] = max(self.widths.get(col, 0), len(text))

    def line(self, text: str, *, bold: bool = False) -> None:
        cell = self.ws.cell(row=self.row, column=1)
        _set_text(cell, text)
        if bold:
            cell.font = Font(bold=True, size=13)
        self.row += 1

    def table(self, headers: Sequence[str], rows: Sequence[Sequence[Any]],
              kinds: Sequence[str] | Sequence[Sequence[str]]) -> None:
        """A header row then the rows; `kinds` per column, or per row as a list of lists."""
        for col, header in enumerate(headers, start=1):
            cell = self.ws.cell(row=self.row, column=col)
            _set_text(cell, header)
            cell.font = Font(bold=True)
            self.widths[col] = max(self.widths.get(col, 0), len(header))
        self.row += 1
        for i, values in enumerate(rows):
            row_kinds = kinds[i] if kinds and not isinstance(kinds[0], str) else kinds
            for col, (value, kind) in enumerate(zip(values, row_kinds, strict=True), start=1):
                self._put(col, value, kind)
            self.row += 1
        self.row += 1

    def fit(self) -> None:
        for col, width in self.widths.items():
            self.ws.column_dimensions[get_column_letter(col)].width = min(max(width + 2, 8), 60)


def _block(sheet: _Sheet, df: pd.DataFrame, columns: Sequence[tuple[str, str, str]],
           masked: bool) -> None:
    sheet.table([label for _k, label, _kind in columns], table_values(df, columns, masked),
                [kind for _k, _label, kind in columns])


def to_xlsx(report: WeeklyReport, *, masked: bool = True) -> bytes:
    """Sheets summary, users, streams, costs, interventions; numbers as numbers."""
    wb = Workbook()
    summary = _Sheet(wb.active)
    summary.ws.title = "summary"
    for text in _heading_lines(report, masked):
        summary.line(text, bold=text == _title(report))
    if report.empty:
        summary.line(_empty_message(report))
    summary.row += 1
    rows = kpi_table(report)
    summary.table(
        ["Figure", report.week, report.previous, "Target", "Target met"],
        [[r["label"], r["value"], r["previous"], fmt_target(r["target"], r["kind"]), r["met"]]
         for r in rows],
        [[TEXT, r["kind"], r["kind"], TEXT, BOOL] for r in rows])
    summary.line("Users by level, month to date at the week's end")
    summary.table(["Level", "Users"], level_rows(report), [TEXT, COUNT])
    summary.fit()

    users = _Sheet(wb.create_sheet("users"))
    _block(users, report.users, user_columns(), masked)
    users.ws.freeze_panes = "B2"
    users.fit()

    streams = _Sheet(wb.create_sheet("streams"))
    _block(streams, report.streams, STREAM_COLUMNS, masked)
    streams.line("Revenue by partner / plan")
    _block(streams, report.partners, PARTNER_COLUMNS, masked)
    streams.fit()

    costs = _Sheet(wb.create_sheet("costs"))
    _block(costs, report.actions, ACTION_COLUMNS, masked)
    costs.line(f"Top {TOP_USERS} users by cost this week")
    _block(costs, report.top_users, TOP_USER_COLUMNS, masked)
    costs.fit()

    inter = _Sheet(wb.create_sheet("interventions"))
    _block(inter, report.interventions, INTERVENTION_COLUMNS, masked)
    inter.line(INTERVENTION_DEFINITION)
    inter.row += 1
    _block(inter, report.crossings, CROSSING_COLUMNS, masked)
    inter.fit()
    inter.ws.column_dimensions["A"].width = max(inter.ws.column_dimensions["A"].width, 20)

    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# -- HTML ------------------------------------------------------------------------------------

def _title(report: WeeklyReport) -> str:
    return f"Weekly profitability report: {report.week}"


def _heading_lines(report: WeeklyReport, masked: bool) -> list[str]:
    return [
        _title(report),
        f"{report.label}, timezone {report.timezone}; compared with {report.previous}.",
        f"Policy {report.policy.name}: warning above {fmt_money(to_usd(report.policy.warning))}, "
        f"cutoff above {fmt_money(to_usd(report.policy.cutoff))} month-to-date cost; "
        f"profit target {fmt_money(to_usd(report.policy.target))} per user per month.",
        f"Generated {report.generated:%Y-%m-%d %H:%M} UTC. Phones "
        + ("masked to their last four digits." if masked else "shown in full (unmasked)."),
    ]


def _empty_message(report: WeeklyReport) -> str:
    return (f"No data for {report.week}: no cost or revenue event between {report.label} "
            f"in {report.timezone}.")


def _html_table(table_id: str, headers: Sequence[str], rows: Sequence[Sequence[Any]],
                kinds: Sequence[str] | Callable[[int], Sequence[str]],
                classes: Sequence[str] | None = None) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = []
    for i, values in enumerate(rows):
        row_kinds = kinds(i) if callable(kinds) else kinds
        cells = []
        for value, kind in zip(values, row_kinds, strict=True):
            cls = "num" if kind in (MONEY, PCT, COUNT) else ""
            if kind == MONEY and value is not None and value < 0:
                cls += " neg"
            cells.append(f'<td class="{cls.strip()}">{html.escape(show(kind, value))}</td>')
        row_cls = f' class="{classes[i]}"' if classes else ""
        body.append(f"<tr{row_cls}>{''.join(cells)}</tr>")
    return (f'<table id="{table_id}"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table>")


def _frame_table(table_id: str, df: pd.DataFrame, columns: Sequence[tuple[str, str, str]],
                 masked: bool) -> str:
    return _html_table(table_id, [label for _k, label, _kind in columns],
                       table_values(df, columns, masked), [kind for _k, _l, kind in columns])


def _kpi_html(report: WeeklyReport) -> str:
    rows = kpi_table(report)
    head = "".join(f"<th>{html.escape(h)}</th>" for h in
                   ("Figure", report.week, report.previous, "Change", "Target"))
    body = []
    for r in rows:
        status = "" if r["met"] is None else ("ok" if r["met"] else "bad")
        mark = "" if r["met"] is None else ("✔ " if r["met"] else "✘ ")
        body.append(
            f'<tr data-key="{r["key"]}"><td>{html.escape(r["label"])}</td>'
            f'<td class="num {status}">{html.escape(show(r["kind"], r["value"]))}</td>'
            f'<td class="num">{html.escape(show(r["kind"], r["previous"]))}</td>'
            f'<td class="num">{html.escape(fmt_change(r["kind"], r["value"], r["previous"]))}</td>'
            f'<td class="{status}">{mark}{html.escape(fmt_target(r["target"], r["kind"]))}</td>'
            "</tr>")
    return (f'<table id="kpis"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody>'
            "</table>")


def _chart(fig: Any) -> str:
    return '<div class="chart">' + fig.to_html(
        full_html=False, include_plotlyjs=False,
        config={"displayModeBar": False, "responsive": True}) + "</div>"


CSS = """
body { font-family: -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: #222;
       margin: 24px auto; max-width: 1100px; padding: 0 16px; }
h1 { font-size: 24px; margin-bottom: 4px; } h2 { font-size: 18px; margin-top: 28px;
     border-bottom: 1px solid #ddd; padding-bottom: 4px; }
p.meta { color: #555; margin: 2px 0; font-size: 13px; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 12px; }
th, td { border-bottom: 1px solid #e5e5e5; padding: 4px 8px; text-align: left; }
td { white-space: nowrap; }
th { background: #f5f5f5; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.neg { color: #b00020; } .ok { color: #1b7f1b; font-weight: 600; }
.bad { color: #c62828; font-weight: 600; }
.notice { background: #fff4e5; border: 1px solid #f0c36d; padding: 10px 14px; }
.note { color: #555; font-size: 12px; max-width: 900px; }
.chart { page-break-inside: avoid; break-inside: avoid; }
@page { size: A4 landscape; margin: 12mm; }
@media print { body { margin: 0; max-width: none; } h2 { break-after: avoid; }
  tr { break-inside: avoid; } }
"""


def to_html(report: WeeklyReport, *, masked: bool = True) -> str:
    """One self-contained page: Plotly's script inlined, no request leaves the file."""
    meta = _heading_lines(report, masked)
    parts = [f"<h1>{html.escape(meta[0])}</h1>"]
    parts += [f'<p class="meta">{html.escape(line)}</p>' for line in meta[1:]]
    if report.empty:
        parts.append(f'<p class="notice" id="empty">{html.escape(_empty_message(report))}</p>')
    parts += ["<h2>Key figures against the week before and the targets</h2>",
              _kpi_html(report),
              '<p class="note">Targets are the spec\'s ratio targets, which mean the same for a '
              "week; the monthly totals' targets are on the Monthly page.</p>"]

    parts += ["<h2>Users by level (month to date at the week's end)</h2>",
              _html_table("levels", ["Level", "Users"], level_rows(report), [TEXT, COUNT])]
    if not report.empty:
        parts.append(_chart(charts.levels_chart(report.kpis["users_by_level"])))

    parts.append("<h2>Revenue stream performance</h2>")
    parts.append(_frame_table("streams", report.streams, STREAM_COLUMNS, masked))
    if not report.empty:
        parts.append(_chart(charts.streams_chart(report.streams, report.week, report.previous)))
    parts.append("<h3>By partner / plan</h3>")
    parts.append(_frame_table("partners", report.partners, PARTNER_COLUMNS, masked))

    parts.append("<h2>Top cost drivers</h2>")
    parts.append(_frame_table("actions", report.actions, ACTION_COLUMNS, masked))
    if not report.actions.empty:
        parts.append(_chart(charts.actions_chart(report.actions, report.week, report.previous)))
    top = report.top_users
    parts.append(f"<h3>Top {TOP_USERS} users by cost</h3>")
    parts.append(_frame_table("top-users", top, TOP_USER_COLUMNS, masked))
    if not top.empty:
        labels = pd.Series([phone(u, masked) for u in top["user_id"]])
        parts.append(_chart(charts.top_users_chart(top, labels)))

    parts.append("<h2>Intervention effectiveness</h2>")
    parts.append(f'<p class="note">{html.escape(INTERVENTION_DEFINITION)}</p>')
    parts.append(_frame_table("interventions", report.interventions, INTERVENTION_COLUMNS,
                              masked))
    if int(report.interventions["crossed"].sum()):
        parts.append(_chart(charts.interventions_chart(report.interventions)))

    n = len(report.users)
    parts.append("<h2>User-level profit table</h2>")
    parts.append(f'<p class="note">{n:,} users with a counted cost or a revenue event in the '
                 "week, lowest week profit first"
                 + (f"; the first {HTML_USER_ROWS:,} are shown here, all are in the xlsx and "
                    "csv files" if n > HTML_USER_ROWS else "") + ".</p>")
    parts.append(_frame_table("users", report.users.head(HTML_USER_ROWS), user_columns(),
                              masked))
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(_title(report))}</title><style>{CSS}</style>"
            f'<script type="text/javascript">{get_plotlyjs()}</script></head>'
            f"<body>{''.join(parts)}</body></html>\n")


# -- PDF -------------------------------------------------------------------------------------

def chromium_path() -> str:
    """Debian's Chromium, which prints the HTML report to PDF (no other engine is installed)."""
    found = shutil.which("chromium") or (CHROMIUM if Path(CHROMIUM).exists() else None)
    if not found:
        raise ReportError("PDF needs Chromium (apt-get install chromium); not found. "
                          "Make the .html report and print it from a browser instead.")
    return found


def html_to_pdf(page: str, *, timeout: float = 120) -> bytes:
    """Print an HTML page with headless Chromium (`--print-to-pdf`), after its scripts ran."""
    with tempfile.TemporaryDirectory(prefix="report-pdf-") as tmp:
        src = Path(tmp) / "report.html"
        out = Path(tmp) / "report.pdf"
        src.write_text(page, encoding="utf-8")
        cmd = [chromium_path(), *CHROMIUM_FLAGS, f"--user-data-dir={tmp}/profile",
               "--no-pdf-header-footer", "--virtual-time-budget=5000",
               f"--print-to-pdf={out}", src.as_uri()]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        if not out.exists() or out.stat().st_size == 0:
            raise ReportError(f"Chromium did not print the PDF (exit {done.returncode}): "
                              + done.stderr.strip()[-500:])
        return out.read_bytes()


def to_pdf(report: WeeklyReport, *, masked: bool = True) -> bytes:
    return html_to_pdf(to_html(report, masked=masked))


# -- one entry for every format ------------------------------------------------------------------

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
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise ReportError(f"cannot tell the format from {path.name!r}: end it with "
                          + ", ".join(f".{f}" for f in FORMATS))
    return fmt


# -- the command --------------------------------------------------------------------------------

def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m dashboard.report",
                                     description="Make the weekly profitability report.")
    sub = parser.add_subparsers(dest="command", required=True)
    w = sub.add_parser("weekly", help="one ISO week's report")
    w.add_argument("--db", type=Path, default=None, help="DuckDB file (default: settings)")
    w.add_argument("--week", default=None,
                   help="ISO week like 2026-W11 (default: the last complete week)")
    w.add_argument("--timezone", default=None, help="IANA timezone (default: settings)")
    w.add_argument("--policy", type=Path, default=None, help="policy TOML (default: settings)")
    w.add_argument("--out", type=Path, required=True, help="file .html, .xlsx, .csv or .pdf")
    w.add_argument("--unmasked", action="store_true", help="show phones in full")
    w.add_argument("--email", action="store_true",
                   help="also mail the file to [alerts] email_to, the week's verdict in the body")
    return parser


def _fail(message: str, code: int) -> int:
    print(f"report: error: {message}", file=sys.stderr)
    return code


def main(argv: Sequence[str] | None = None, *, today: date | None = None) -> int:
    """Exit 0 when written, 2 for a bad argument (week, timezone, policy, format), 1 else."""
    args = _parser().parse_args(argv)
    try:
        tz = settings.check_timezone(args.timezone or settings.timezone())
        week = args.week
        if week is None:
            today = today or datetime.now(kpi_layer.zone(tz)).date()
            week = weekly.last_complete_week(today)
        week = weekly.parse_week(week)
        fmt = format_of(args.out)
        policy = load_policy(args.policy or settings.policy_path())
    except (ValueError, ReportError, PolicyError, OSError) as exc:
        return _fail(str(exc).splitlines()[0], 2)
    db = args.db or settings.db_path()
    if not Path(db).is_file():
        return _fail(f"no database at {db}", 1)
    from loaders.publish import connect_read_only
    from report import mail

    try:
        conf = settings.alerts(Path(db)) if args.email else None
    except ValueError as exc:
        return _fail(str(exc), 2)
    if conf is not None and not conf.email_ready:
        return _fail("--email needs smtp_host, email_from and email_to in [alerts]", 2)
    try:
        con = connect_read_only(Path(db))
        try:
            report = build_weekly(con, week=week, tz=tz, policy=policy)
            verdict = mail.week_verdict(con, report) if conf else None
        finally:
            con.close()
        data = render(report, fmt, masked=not args.unmasked)
    except (ReportError, duckdb.Error, subprocess.TimeoutExpired) as exc:
        return _fail(str(exc).splitlines()[0], 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(data)
    note = " (no data in that week)" if report.empty else ""
    print(f"wrote {args.out} ({fmt}, {report.week}, {len(report.users):,} users){note}")
    if conf is not None:
        try:
            mail.send(conf, report, verdict, args.out)
        except mail.DeliveryError as exc:
            return _fail(f"the email failed after {conf.retries} attempts ({exc}); "
                         f"the report is in {args.out}", 1)
        print(f"mailed {args.out.name} to {', '.join(conf.email_to)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
