"""The weekly report by email: the file attached, the week's verdict in the body.

`python -m dashboard.report weekly ... --out FILE --email` writes FILE, then sends it to
`[alerts] email_to` through the alerts' SMTP channel (same settings, same retries, same
secrecy). The verdict is `queries.verdict` at the end of the week's last day, in the words
the landing page uses, followed by the week's figures against their targets.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from alerts.channels import DeliveryError
from alerts.channels import email as smtp
from alerts.deliver import with_retry
from core import formats, metrics, settings
from queries import kpis as K
from queries import verdict as V

MIME = {"pdf": "application/pdf", "html": "text/html", "csv": "text/csv",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
MARK = {True: "✓", False: "✗", None: ""}


def week_verdict(con: duckdb.DuckDBPyConnection, report: Any) -> V.Verdict:
    """The verdict at the end of the report's week (month to date at its last day)."""
    last: date = K.parse_period("week", report.week)[1]
    span = K.data_span(con, report.timezone)
    first_month = f"{span[0]:%Y-%m}" if span else None
    return V.verdict(con, last, report.timezone, report.policy, first_month)


def subject(report: Any, verdict: V.Verdict) -> str:
    return f"Weekly profit report {report.week}: {verdict.sentence()}"


def body(report: Any, verdict: V.Verdict, attachment: str) -> str:
    """The mail's text: the verdict first, then each figure of the week with a target."""
    lines = [f"Weekly profitability report, {report.label}, timezone {report.timezone}.", "",
             f"Verdict at the end of {verdict.day:%a %d %b %Y}: {verdict.sentence()}",
             verdict.pace_sentence(),
             f"Profit this month: {formats.money(verdict.profit_mtd)}; projected month-end "
             f"{formats.money(verdict.projected_profit)}.", "",
             "The week against its targets:"]
    for key, target in report.targets.items():
        m = metrics.metric(key)
        value = report.kpis.get(key)
        lines.append(f"- {m.label}: {formats.show(m.unit, value)} ({target.text}) "
                     f"{MARK[target.met(value)]}".rstrip())
    lines += ["", f"The full report is attached: {attachment}."]
    return "\n".join(lines) + "\n"


def send(conf: settings.AlertSettings, report: Any, verdict: V.Verdict, path: Path,
         sleep: Callable[[float], None] = time.sleep) -> None:
    """Mail the written report to `email_to`; DeliveryError says why not (no secret)."""
    fmt = path.suffix.lower().lstrip(".")
    msg = smtp.message(conf, subject(report, verdict), body(report, verdict, path.name),
                       [(path.name, path.read_bytes(), MIME.get(fmt, "application/octet-stream"))])
    with_retry(lambda _: smtp.send_message(conf, msg), {}, conf.retries, conf.backoff_seconds,
               sleep)


__all__ = ["DeliveryError", "body", "send", "subject", "week_verdict"]
