"""The names `report.weekly` held before the report was split, kept so that imports written
against it (other branches, scripts) still work. New code imports the module that does
the job: report.model, report.cells, report.columns, report.html / xlsx / csv / pdf,
report.files and report.command. Nothing is defined here.
"""

from __future__ import annotations

from report.cells import (
    BOOL,
    COUNT,
    FORMULA_STARTS,
    MONEY,
    PCT,
    RATIO,
    TEXT,
    WHEN,
    csv_safe,
    display_frame,
    fmt_change,
    fmt_count,
    fmt_money,
    fmt_pct,
    fmt_target,
    phone,
    show,
    table_values,
    to_usd,
)
from report.columns import (
    ACTION_COLUMNS,
    CROSSING_COLUMNS,
    INTERVENTION_COLUMNS,
    PARTNER_COLUMNS,
    STREAM_COLUMNS,
    TOP_USER_COLUMNS,
    USER_COLUMNS,
    user_columns,
)
from report.command import main
from report.csv import to_csv
from report.files import FORMATS, MIME, RENDERERS, file_name, format_of, render
from report.html import CSS, HTML_USER_ROWS, to_html
from report.model import (
    INTERVENTION_DEFINITION,
    TOP_USERS,
    ReportError,
    WeeklyReport,
    build_weekly,
    kpi_rows,
    kpi_table,
    level_rows,
    target_met,
    weekly_targets,
)
from report.pdf import CHROMIUM, CHROMIUM_FLAGS, chromium_path, html_to_pdf, to_pdf
from report.xlsx import DATETIME_FORMAT, MONEY_FORMAT, PCT_FORMAT, to_xlsx

__all__ = [
    "ACTION_COLUMNS", "BOOL", "CHROMIUM", "CHROMIUM_FLAGS", "COUNT", "CROSSING_COLUMNS", "CSS",
    "DATETIME_FORMAT", "FORMATS", "FORMULA_STARTS", "HTML_USER_ROWS", "INTERVENTION_COLUMNS",
    "INTERVENTION_DEFINITION", "MIME", "MONEY", "MONEY_FORMAT", "PARTNER_COLUMNS", "PCT",
    "PCT_FORMAT", "RATIO", "RENDERERS", "STREAM_COLUMNS", "TEXT", "TOP_USERS",
    "TOP_USER_COLUMNS", "USER_COLUMNS", "WHEN", "ReportError", "WeeklyReport", "build_weekly",
    "chromium_path", "csv_safe", "display_frame", "file_name", "fmt_change", "fmt_count",
    "fmt_money", "fmt_pct", "fmt_target", "format_of", "html_to_pdf", "kpi_rows", "kpi_table",
    "level_rows", "main", "phone", "render", "show", "table_values", "target_met", "to_csv",
    "to_html", "to_pdf", "to_usd", "to_xlsx", "user_columns", "weekly_targets",
]
