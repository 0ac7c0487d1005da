"""`python -m dashboard.report weekly ... --email`: the file attached, the verdict in the body.

Week 2026-W11 (9-15 March) of the alerts' history (tests/alerts_fixtures.py). At the end
of Sunday 15 March, month to date: U2 ($9.48 profit) and U3 ($3.80) are at the $3.00
target, U1 ($2.50 after paying), U4 ($2.90) and U5 (-$2.00) are below: 3 of 5 (60.0%)
against 95% (March is month 2). On 15 February both users were at target: 100.0%.
March profit $24.00 - $7.32 = $16.68, run on to 31 days: 16.68 × 31 / 15 = $34.472.
The week: revenue $14.00 (U3 4 + U1 5 + U4 5), cost $7.00 (U2 5 × 0.04 + 2.50 + 0.20 +
2.10 + 2.00), margin 50.0% against at least 90%.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from report.__main__ import main
from tests.alerts_fixtures import (
    HISTORY_COSTS,
    HISTORY_REVENUE,
    SECRETS,
    free_port,
    write_alert_secrets,
)

VERDICT = "3 of 5 users (60.0%) are below $3.00 this month — target 95% ✗"


@pytest.fixture
def db(make_db, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PROFIT_TIMEZONE", "UTC")
    monkeypatch.delenv("PROFIT_POLICY", raising=False)
    return make_db(costs=HISTORY_COSTS, revenue=HISTORY_REVENUE)


def weekly(db: Path, out: Path, *extra: str) -> int:
    return main(["weekly", "--db", str(db), "--week", "2026-W11", "--out", str(out), *extra])


@pytest.mark.parametrize(("suffix", "mime", "magic"), [
    ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", b"PK"),
    ("pdf", "application/pdf", b"%PDF"),
])
def test_the_weekly_report_is_mailed_with_the_file_attached_and_the_verdict_in_the_body(
        suffix, mime, magic, db, smtp, tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("PROFIT_SECRETS", str(write_alert_secrets(tmp_path, smtp_port=smtp.port)))
    out = tmp_path / f"week.{suffix}"
    assert weekly(db, out, "--email") == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[-1] == "mailed week." + suffix + " to founder@example.com, " \
                          "cofounder@example.com"
    (msg,) = smtp.messages
    assert msg["To"] == "founder@example.com, cofounder@example.com"
    assert msg["Subject"] == f"Weekly profit report 2026-W11: {VERDICT}"
    body = msg.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert f"Verdict at the end of Sun 15 Mar 2026: {VERDICT}\n" in body
    assert "40.0% at target, behind 100.0% on 15 Feb.\n" in body
    assert "Profit this month: $16.68; projected month-end $34.47.\n" in body
    assert "- Margin: 50.0% (target: at least 90%) ✗\n" in body
    assert f"The full report is attached: week.{suffix}." in body
    (attached,) = list(msg.iter_attachments())
    assert attached.get_filename() == f"week.{suffix}"
    assert attached.get_content_type() == mime
    assert attached.get_content() == out.read_bytes()
    assert out.read_bytes().startswith(magic)


def test_a_refused_mail_leaves_the_file_and_says_so_in_one_line(db, tmp_path, monkeypatch,
                                                                capsys) -> None:
    monkeypatch.setenv("PROFIT_SECRETS",
                       str(write_alert_secrets(tmp_path, smtp_port=free_port())))
    out = tmp_path / "week.xlsx"
    assert weekly(db, out, "--email") == 1
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [
        "report: error: the email failed after 3 attempts (connection refused); "
        f"the report is in {out}"]
    assert out.exists()
    assert not any(s in captured.out + captured.err for s in SECRETS)


def test_email_without_smtp_settings_is_refused_before_anything_is_written(
        db, tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("PROFIT_SECRETS", str(write_alert_secrets(tmp_path)))
    out = tmp_path / "week.xlsx"
    assert weekly(db, out, "--email") == 2
    assert "--email needs smtp_host, email_from and email_to in [alerts]" in \
        capsys.readouterr().err
    assert not out.exists()
