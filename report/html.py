"""The weekly report as one self-contained HTML page (Plotly's script inlined).

No request leaves the file, so it can be mailed or archived; the PDF is this page printed
(report.pdf). Sections follow the guide: key figures, user-level profit, revenue streams,
cost drivers and optimisation opportunities, intervention effectiveness.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import pandas as pd
from plotly.offline import get_plotlyjs

from core import metrics
from report import charts
from report import columns as cols
from report.cells import (
    COUNT,
    MONEY,
    MONEYS,
    NUMERIC,
    TEXT,
    Columns,
    fmt_change,
    fmt_money,
    fmt_target,
    phone,
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
    movers,
    title,
)

HTML_USER_ROWS = 500        # the HTML/PDF appendix shows this many; xlsx and csv hold them all

CSS = """
body { font-family: -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: #222;
       margin: 24px auto; max-width: 1100px; padding: 0 16px; }
h1 { font-size: 24px; margin-bottom: 4px; } h2 { font-size: 18px; margin-top: 28px;
     border-bottom: 1px solid #ddd; padding-bottom: 4px; }
h3 { font-size: 15px; margin: 18px 0 4px; }
p.meta { color: #555; margin: 2px 0; font-size: 13px; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 12px; }
th, td { border-bottom: 1px solid #e5e5e5; padding: 4px 8px; text-align: left; }
td { white-space: nowrap; }
th { background: #f5f5f5; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.neg { color: #b00020; } .ok { color: #1b7f1b; font-weight: 600; }
.bad { color: #c62828; font-weight: 600; }
.notice { background: #fff4e5; border: 1px solid #f0c36d; padding: 10px 14px; }
.note { color: #555; font-size: 12px; max-width: 900px; }
.chart, .block { page-break-inside: avoid; break-inside: avoid; }
.verdict { font-size: 17px; font-weight: 700; margin: 6px 0; }
#movers { margin: 4px 0 8px; font-size: 13px; } #glance h3 { margin-top: 10px; }
@page { size: A4 landscape; margin: 12mm; }
@media print { body { margin: 0; max-width: none; } h2, h3 { break-after: avoid; }
  .new-page { break-before: page; } #glance h2 { margin-top: 8px; }
  tr { break-inside: avoid; } }
"""


def _table(table_id: str, headers: Sequence[str], rows: Sequence[Sequence[Any]],
           kinds: Sequence[str]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = []
    for values in rows:
        cells = []
        for value, kind in zip(values, kinds, strict=True):
            cls = "num" if kind in NUMERIC else ""
            if kind in MONEYS and value is not None and value < 0:
                cls += " neg"
            cells.append(f'<td class="{cls.strip()}">{html.escape(show(kind, value))}</td>')
        body.append(f"<tr>{''.join(cells)}</tr>")
    return (f'<table id="{table_id}"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table>")


def _frame_table(table_id: str, df: pd.DataFrame, columns: Columns, masked: bool) -> str:
    return _table(table_id, [label for _k, label, _kind in columns],
                  table_values(df, columns, masked), [kind for _k, _l, kind in columns])


def _note(text: str) -> str:
    return f'<p class="note">{html.escape(text)}</p>'


def _kpi_html(report: WeeklyReport) -> str:
    return _kpi_rows_html(report, kpi_table(report), table_id="kpis")


def _kpi_rows_html(report: WeeklyReport, rows: list[dict[str, Any]],
                   table_id: str = "headline") -> str:
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
    return (f'<table id="{table_id}"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table>')


def _chart(fig: Any) -> str:
    return '<div class="chart">' + fig.to_html(
        full_html=False, include_plotlyjs=False,
        config={"displayModeBar": False, "responsive": True}) + "</div>"


def _cost_drivers(report: WeeklyReport, masked: bool) -> list[str]:
    parts = ["<h2>Top cost drivers</h2>",
             _frame_table("actions", report.actions, cols.ACTION_COLUMNS, masked)]
    if not report.actions.empty:
        parts.append(_chart(charts.actions_chart(report.actions, report.week, report.previous)))
    top = report.top_users
    parts += [f"<h3>Top {TOP_USERS} users by cost</h3>",
              _frame_table("top-users", top, cols.TOP_USER_COLUMNS, masked)]
    if not top.empty:
        labels = pd.Series([phone(u, masked) for u in top["user_id"]])
        parts.append(_chart(charts.top_users_chart(top, labels)))
    return parts


def _block(heading: str, definition: str, body: str) -> str:
    """A small table under its heading and rule, kept on one printed page."""
    return f'<div class="block"><h3>{html.escape(heading)}</h3>{_note(definition)}{body}</div>'


def _opportunities(report: WeeklyReport, masked: bool) -> list[str]:
    """The guide's "cost optimisation opportunities": four tables, each with its rule."""
    parts = ['<h2 id="opportunities">Cost optimisation opportunities</h2>',
             _block("Unit economics per action", ECONOMICS_DEFINITION,
                    _frame_table("economics", report.economics, cols.ECONOMICS_COLUMNS,
                                 masked))]
    if not report.economics.empty:
        parts.append(_chart(charts.economics_chart(report.economics)))
    loss = report.loss_users
    parts += [
        _block("Categories whose cost grew", CATEGORY_DEFINITION,
               _frame_table("categories", report.categories, cols.CATEGORY_COLUMNS, masked)
               if not report.categories.empty else
               _note(f"No category's cost grew against {report.previous}.")),
        _block("Users whose cost exceeds their revenue the most", LOSS_DEFINITION,
               _frame_table("loss-users", loss, cols.LOSS_USER_COLUMNS, masked)
               if not loss.empty else _note("No user's cost exceeded their revenue this week.")),
        _block("Estimated against actual cost", ACCURACY_DEFINITION,
               _frame_table("accuracy", report.accuracy, cols.ACCURACY_COLUMNS, masked)
               if not report.accuracy.empty else _note("No estimate was recorded this week.")),
    ]
    return parts


ACT_ROWS = 4  # action-needed rows on the first page; the page lists how many there are


def _glance(report: WeeklyReport, masked: bool) -> list[str]:
    """Page 1, as a founder reads it: the verdict, what moved most, whom to act on, and the
    week's headline figures; everything else follows on the next pages."""
    v = report.verdict
    parts = ['<section id="glance">']
    if v is not None:
        status = {True: "ok", False: "bad", None: ""}[v.met]
        parts.append(f'<p id="verdict" class="verdict {status}">{html.escape(v.sentence())}</p>')
        parts.append(_note(f"Month to date at {v.day:%a %d %b}: profit "
                           f"{fmt_money(v.profit_mtd)}, projected month-end "
                           f"{fmt_money(v.projected_profit)}. {v.pace_sentence()}"))
    moved = movers(report)
    if moved:
        items = []
        for r in moved:
            cls = {True: "ok", False: "bad", None: ""}[r["good"]]
            items.append(f'<li class="{cls}">{html.escape(r["label"])}: '
                         f'{html.escape(show(r["kind"], r["value"]))} '
                         f'({html.escape(fmt_change(r["kind"], r["value"], r["previous"]))} '
                         f"against {html.escape(report.previous)})</li>")
        parts.append(f'<h3>Top movers</h3><ul id="movers">{"".join(items)}</ul>')
    act = report.to_act
    parts.append("<h3>Action needed</h3>")
    if act.empty:
        parts.append(_note("Nothing needs a look: no user over the cutoff unpaid, no unusual "
                           "usage, every load fresh."))
    else:
        counts = act["kind"].value_counts()
        parts.append(_note(" · ".join(f"{counts[k]:,} {k}" for k in dict.fromkeys(act["kind"]))
                           + (f"; the first {ACT_ROWS} here, all on the Daily page."
                              if len(act) > ACT_ROWS else ".")))
        shown = act.head(ACT_ROWS)
        parts.append(_table(
            "to-act", ["What", "User", "Cost MTD", "Revenue MTD", "Requests MTD", "Detail"],
            [[k, phone(u, masked) if isinstance(u, str) else "–", c, r, q, d]
             for k, u, c, r, q, d in zip(shown["kind"], shown["user_id"], shown["cost_usd"],
                                         shown["revenue_usd"], shown["requests"],
                                         shown["detail"], strict=True)],
            [TEXT, TEXT, MONEY, MONEY, COUNT, TEXT]))
    headline = [r for r in kpi_table(report)
                if metrics.WEEKLY in metrics.metric(r["key"]).headline]
    parts += ["<h3>The week's figures</h3>", _kpi_rows_html(report, headline), "</section>"]
    return parts


def to_html(report: WeeklyReport, *, masked: bool = True) -> str:
    """One self-contained page: Plotly's script inlined, no request leaves the file."""
    meta = heading_lines(report, masked)
    parts = [f"<h1>{html.escape(meta[0])}</h1>"]
    parts += [f'<p class="meta">{html.escape(line)}</p>' for line in meta[1:]]
    if report.empty:
        parts.append(f'<p class="notice" id="empty">{html.escape(empty_message(report))}</p>')
    parts += _glance(report, masked)
    parts += ['<h2 class="new-page">Key figures against the week before and the targets</h2>',
              _kpi_html(report),
              _note("Targets are the spec's ratio targets, which mean the same for a week; "
                    "the monthly totals' targets are on the Monthly page.")]

    parts += ["<h2>Users by level (month to date at the week's end)</h2>",
              _table("levels", ["Level", "Users"], level_rows(report), [TEXT, COUNT])]
    if not report.empty:
        parts.append(_chart(charts.levels_chart(report.kpis["users_by_level"])))

    parts.append("<h2>Revenue stream performance</h2>")
    parts.append(_frame_table("streams", report.streams, cols.STREAM_COLUMNS, masked))
    if not report.empty:
        parts.append(_chart(charts.streams_chart(report.streams, report.week, report.previous)))
    parts.append("<h3>By partner / plan</h3>")
    parts.append(_frame_table("partners", report.partners, cols.PARTNER_COLUMNS, masked))

    parts += _cost_drivers(report, masked)
    parts += _opportunities(report, masked)

    parts.append("<h2>Intervention effectiveness</h2>")
    parts.append(_note(INTERVENTION_DEFINITION))
    parts.append(_frame_table("interventions", report.interventions,
                              cols.INTERVENTION_COLUMNS, masked))
    if int(report.interventions["crossed"].sum()):
        parts.append(_chart(charts.interventions_chart(report.interventions)))

    n = len(report.users)
    parts.append('<h2 class="new-page">Appendix: user-level profit table</h2>')
    parts.append(_note(f"{n:,} users with a counted cost or a revenue event in the week, "
                       "lowest week profit first"
                       + (f"; the first {HTML_USER_ROWS:,} are shown here, all are in the xlsx "
                          "and csv files" if n > HTML_USER_ROWS else "") + "."))
    parts.append(_frame_table("users", report.users.head(HTML_USER_ROWS), cols.user_columns(),
                              masked))
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title(report))}</title><style>{CSS}</style>"
            f'<script type="text/javascript">{get_plotlyjs()}</script></head>'
            f"<body>{''.join(parts)}</body></html>\n")
