"""The weekly report by email: the file attached, the week's verdict in the body.

`python -m dashboard.report weekly ... --out FILE --email` writes FILE, then sends it to
`[alerts] email_to` through the alerts' SMTP channel (same settings, same retries, same
secrecy). The verdict is the report's own (`queries.verdict` at the end of the week's last
day, the landing page's words), followed by the week's figures against their targets.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from alerts.channels import DeliveryError
from alerts.channels import email as smtp
from alerts.deliver import with_retry
from core import formats, metrics, settings
from report.files import MIME
from report.model import WeeklyReport

MARK = {True: "✓", False: "✗", None: ""}


def subject(report: WeeklyReport) -> str:
    said = report.verdict.sentence() if report.verdict else "no data for that week"
    return f"Weekly profit report {report.week}: {said}"


def body(report: WeeklyReport, attachment: str) -> str:
    """The mail's text: the verdict first, then each figure of the week with a target."""
    lines = [f"Weekly profitability report, {report.label}, timezone {report.timezone}.", ""]
    v = report.verdict
    if v is None:
        lines.append("No data for that week.")
    else:
        lines += [f"Verdict at the end of {v.day:%a %d %b %Y}: {v.sentence()}",
                  v.pace_sentence(),
                  f"Profit this month: {formats.money(v.profit_mtd)}; projected month-end "
                  f"{formats.money(v.projected_profit)}."]
    lines += ["", "The week against its targets:"]
    for key, target in report.targets.items():
        m = metrics.metric(key)
        value = report.kpis.get(key)
        lines.append(f"- {m.label}: {formats.show(m.unit, value)} ({target.text}) "
                     f"{MARK[target.met(value)]}".rstrip())
    lines += ["", f"The full report is attached: {attachment}."]
    return "\n".join(lines) + "\n"


def send(conf: settings.AlertSettings, report: WeeklyReport, path: Path,
         sleep: Callable[[float], None] = time.sleep) -> None:
    """Mail the written report to `email_to`; DeliveryError says why not (no secret)."""
    fmt = path.suffix.lower().lstrip(".")
    msg = smtp.message(conf, subject(report), body(report, path.name),
                       [(path.name, path.read_bytes(), MIME.get(fmt, "application/octet-stream"))])
    with_retry(lambda _: smtp.send_message(conf, msg), {}, conf.retries, conf.backoff_seconds,
               sleep)


__all__ = ["DeliveryError", "body", "send", "subject"]
