"""The weekly report as PDF: the HTML report printed by headless Debian Chromium.

No other engine is installed and Chromium draws the Plotly charts, so the PDF shows
exactly what the HTML does (A4 landscape, from the HTML's `@page` rule).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from report.html import to_html
from report.model import ReportError, WeeklyReport

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run")


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
