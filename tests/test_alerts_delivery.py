"""`python -m alerts check` against real local sinks: once per period, resolved once,
signed webhooks, escaped Slack text, retries, and no secret anywhere.

The history and its hand-worked figures are in tests/alerts_fixtures.py; at 15 March 2026
10:00 UTC five alerts fire: users over the cutoff unpaid (2), share at target against its
target (40% < 95%) and against last month's pace (40% < 100%), the spike of 14 March
($1.35 > $0.08) and the margin (47.71% < 90%).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from alerts.__main__ import main
from alerts.channels.webhook import HEADER, signature, verify
from alerts.model import EVENT_KEYS
from core import settings
from loaders.pipeline import Chunk, LoadError, load
from loaders.publish import data_version
from tests.alerts_fixtures import (
    HISTORY_COSTS,
    HISTORY_REVENUE,
    NOW,
    SECRETS,
    SLACK_TOKEN,
    WEBHOOK_SECRET,
    SmtpSink,
    WebhookSink,
    refused_url,
    write_alert_secrets,
)

FIVE = {("users_over_cutoff_unpaid", "users"), ("users_at_target_below_target", "target"),
        ("users_at_target_below_target", "pace"), ("cost_per_user_spike", "cost_per_user"),
        ("margin_below_target", "margin_pct")}


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROFIT_TIMEZONE", "UTC")
    monkeypatch.delenv("PROFIT_POLICY", raising=False)
    monkeypatch.delenv("PROFIT_ALERTS_STATE", raising=False)


@pytest.fixture
def db(make_db, env) -> Path:
    return make_db(costs=HISTORY_COSTS, revenue=HISTORY_REVENUE)


def slack_url(sink: WebhookSink) -> str:
    return sink.url(f"/services/T000/B000/{SLACK_TOKEN}")


def use(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str = "secrets.toml",
        **channels: object) -> Path:
    path = write_alert_secrets(tmp_path, name=name, **channels)
    monkeypatch.setenv("PROFIT_SECRETS", str(path))
    return path


def check(db: Path, capsys: pytest.CaptureFixture[str], now: str = NOW,
          *extra: str) -> tuple[list[str], list[str]]:
    assert main(["check", "--db", str(db), "--now", now, *extra]) == 0
    out, err = capsys.readouterr()
    return out.splitlines(), err.splitlines()


def keys(events: list[dict]) -> set[tuple[str, str]]:
    return {(e["rule"], e["key"]) for e in events}


def test_each_new_alert_goes_once_to_every_channel_and_a_second_run_sends_nothing(
        db, hook, slack, smtp, tmp_path, monkeypatch, capsys) -> None:
    use(tmp_path, monkeypatch, webhook=hook.url(), slack=slack_url(slack), smtp_port=smtp.port)
    out, err = check(db, capsys)
    assert {tuple(line.split(" ")[1:3]) for line in out} == FIVE
    assert all(line.startswith("firing ") for line in out) and len(out) == 5
    assert err == []
    assert keys(hook.events()) == FIVE and len(hook.events()) == 5
    assert len(slack.received) == 5 and len(smtp.messages) == 5
    assert {e["state"] for e in hook.events()} == {"firing"}
    unpaid = next(e for e in hook.events() if e["rule"] == "users_over_cutoff_unpaid")
    assert unpaid == {"rule": "users_over_cutoff_unpaid", "key": "users", "state": "firing",
                      "period": "2026-03", "value": 2, "threshold": 1,
                      "message": "2 users over the $2.00 cutoff with no payment, "
                                 "March 2026 to date",
                      "url": "https://profit.example.com/daily?day=2026-03-15"}
    assert set(smtp.logins) == {("alerts@example.com", "smtpPasswordNeverShown-9d2e")}
    assert {m["To"] for m in smtp.messages} == {"founder@example.com, cofounder@example.com"}

    out, err = check(db, capsys, "2026-03-15T11:00:00")
    assert (out, err) == ([], [])
    assert (len(hook.received), len(slack.received), len(smtp.messages)) == (5, 5, 5)


def test_a_cleared_alert_is_sent_once_as_resolved(db, hook, tmp_path, monkeypatch,
                                                   capsys) -> None:
    use(tmp_path, monkeypatch, webhook=hook.url())
    check(db, capsys)
    out, _ = check(db, capsys, "2026-03-15T12:00:00")  # U1 and U4 have paid by then
    assert out == ["resolved users_over_cutoff_unpaid users 2026-03: 0 users over the $2.00 "
                   "cutoff with no payment, March 2026 to date"]
    resolved = hook.events()[5:]
    assert [(e["rule"], e["state"], e["value"]) for e in resolved] == \
        [("users_over_cutoff_unpaid", "resolved", 0)]
    assert check(db, capsys, "2026-03-15T13:00:00") == ([], [])
    assert len(hook.received) == 6


def test_an_alert_whose_period_is_over_ends_without_a_resolved(db, hook, tmp_path,
                                                               monkeypatch, capsys) -> None:
    use(tmp_path, monkeypatch, webhook=hook.url())
    check(db, capsys)
    out, _ = check(db, capsys, "2026-04-01T10:00:00")
    # April has no event yet; only the data is stale (newest event 15 March 08:00).
    assert out == ["firing data_stale cost_events 2026-04-01: No new cost event for 410.0 "
                   "hours (the newest is from 2026-03-15 08:00 UTC; alert after 6.0 hours)"]
    assert [e["state"] for e in hook.events()] == ["firing"] * 6
    state = json.loads((db.parent / "test.alerts.json").read_text())
    assert sorted(r["state"] for r in state["alerts"]) == ["ended"] * 5 + ["firing"]


def test_the_webhook_signature_is_the_hmac_of_the_exact_body(db, hook, tmp_path,
                                                             monkeypatch, capsys) -> None:
    use(tmp_path, monkeypatch, webhook=hook.url())
    check(db, capsys)
    for got in hook.received:
        assert got.headers[HEADER] == signature(got.body, WEBHOOK_SECRET)
        assert got.headers[HEADER].startswith("sha256=") and len(got.headers[HEADER]) == 71
        assert verify(got.body, got.headers[HEADER], WEBHOOK_SECRET)
        assert not verify(got.body + b" ", got.headers[HEADER], WEBHOOK_SECRET)
        assert tuple(got.json) == EVENT_KEYS
        assert got.headers["Content-Type"] == "application/json"


def test_slack_gets_valid_json_with_escaped_text(db, slack, tmp_path, monkeypatch,
                                                 capsys) -> None:
    use(tmp_path, monkeypatch, slack=slack_url(slack))
    with pytest.raises(LoadError):
        load(db, "files:<!channel> & <b>.csv", _broken())
    check(db, capsys)
    bodies = [json.loads(r.body) for r in slack.received]
    assert all(set(b) == {"text", "blocks"} for b in bodies)
    failed = next(b for b in bodies if "load_failed" in b["text"])
    assert failed["text"].startswith("FIRING: load_failed (files:&lt;!channel&gt; &amp; "
                                     "&lt;b&gt;.csv, 2026-03-15): The last load of "
                                     "files:&lt;!channel&gt; &amp; &lt;b&gt;.csv failed at ")
    section = failed["blocks"][0]["text"]["text"]
    assert "<!channel>" not in section and "&lt;!channel&gt;" in section
    assert failed["blocks"][0]["text"]["type"] == "mrkdwn"
    assert failed["blocks"][-1]["elements"][0]["url"] == "https://profit.example.com/data"
    spike = next(b for b in bodies if "cost_per_user_spike" in b["text"])
    assert "$1.3500, 33.8× the usual $0.0400" in spike["text"]


def _broken():
    yield Chunk(frames={})
    raise RuntimeError("disk full")


@pytest.mark.parametrize("failure", ["500", "timeout", "refused"])
def test_a_failing_channel_is_named_the_others_get_it_and_the_next_run_delivers_once(
        failure, db, slack, smtp, tmp_path, monkeypatch, capsys) -> None:
    broken = WebhookSink(hang=1.5)
    try:
        if failure == "refused":
            url = refused_url()
        else:
            url = broken.url()
            broken.mode = "fail" if failure == "500" else "hang"
        use(tmp_path, monkeypatch, webhook=url, slack=slack_url(slack), smtp_port=smtp.port)
        out, err = check(db, capsys)
        assert len(out) == 5
        assert len(slack.received) == 5 and len(smtp.messages) == 5
        reason = {"500": "HTTP 500", "timeout": "timed out after 0.5 s",
                  "refused": "connection refused"}[failure]
        assert err == [f"alerts: channel webhook failed after 3 attempts ({reason}); "
                       "5 alerts kept for the next run"]
        if failure != "refused":
            assert broken.attempts == 3  # retried within the run, then left for the next

        broken.mode = "ok"  # the webhook is back (a refused one is pointed at the sink)
        use(tmp_path, monkeypatch, name="fixed.toml", webhook=broken.url(),
            slack=slack_url(slack), smtp_port=smtp.port)
        out, err = check(db, capsys, "2026-03-15T10:30:00")
        assert (out, err) == ([], [])  # nothing new fired; the owed alerts went quietly
        assert keys(broken.events()) == FIVE and len(broken.received) == 5
        assert len(slack.received) == 5 and len(smtp.messages) == 5
        check(db, capsys, "2026-03-15T10:45:00")
        assert len(broken.received) == 5
    finally:
        broken.close()


def test_a_refused_smtp_server_does_not_stop_the_webhook(db, hook, tmp_path, monkeypatch,
                                                         capsys) -> None:
    from tests.alerts_fixtures import free_port

    use(tmp_path, monkeypatch, webhook=hook.url(), smtp_port=free_port())
    _, err = check(db, capsys)
    assert len(hook.received) == 5
    assert err == ["alerts: channel email failed after 3 attempts (connection refused); "
                   "5 alerts kept for the next run"]


def test_a_wrong_smtp_password_is_named_without_the_password(db, smtp, tmp_path, monkeypatch,
                                                            capsys) -> None:
    path = use(tmp_path, monkeypatch, smtp_port=smtp.port)
    path.write_text(path.read_text().replace("smtpPasswordNeverShown-9d2e",
                                             "wrongPasswordNeverShown-0000"))
    settings._secrets.cache_clear()
    _, err = check(db, capsys)
    assert err == ["alerts: channel email failed after 3 attempts (SMTP login refused (535)); "
                   "5 alerts kept for the next run"]
    assert smtp.messages == []


def test_no_secret_in_any_output_log_or_error(db, slack, tmp_path, monkeypatch, capsys,
                                              caplog) -> None:
    caplog.set_level(logging.DEBUG)
    hook_url = refused_url(f"/hook/{WEBHOOK_SECRET}")
    conf = use(tmp_path, monkeypatch, webhook=hook_url, slack=slack_url(slack),
               smtp_port=refused_url().rsplit(":", 1)[1].split("/")[0])
    with pytest.raises(LoadError):  # an error that quotes the secrets it was given
        load(db, "files:costs.csv", _quoting(hook_url, slack_url(slack)))
    out, err = check(db, capsys)
    dry, dry_err = check(db, capsys, "2026-03-15T10:05:00", "--dry-run")
    state = (db.parent / "test.alerts.json").read_text()
    everything = "\n".join([*out, *err, *dry, *dry_err, caplog.text, state,
                            *(r.body.decode() for r in slack.received)])
    assert any("load_failed" in line for line in out)
    assert len(err) == 2  # the webhook and email lines, without their addresses
    for secret in (*SECRETS, hook_url, slack_url(slack)):
        assert secret not in everything
    assert "***" in next(line for line in out if "load_failed" in line)
    assert conf.exists()


def _quoting(*secrets: str):
    yield Chunk(frames={})
    raise RuntimeError(f"could not reach {secrets[0]} nor {secrets[1]} with "
                       f"{SECRETS[2]}")


def test_dry_run_sends_and_records_nothing(db, hook, tmp_path, monkeypatch, capsys) -> None:
    use(tmp_path, monkeypatch, webhook=hook.url())
    out, _ = check(db, capsys, NOW, "--dry-run")
    assert len(out) == 5 and all(line.startswith("(dry run) firing ") for line in out)
    assert hook.received == [] and not (db.parent / "test.alerts.json").exists()


def test_the_database_is_left_alone_and_the_state_sits_beside_it(db, hook, tmp_path,
                                                                  monkeypatch, capsys) -> None:
    use(tmp_path, monkeypatch, webhook=hook.url())
    before = data_version(db)
    check(db, capsys)
    assert data_version(db) == before
    state = json.loads((db.parent / "test.alerts.json").read_text())
    assert len(state["alerts"]) == 5 and state["last_check"] == "2026-03-15T10:00:00+00:00"
    assert [p.name for p in db.parent.glob(".test.alerts.json*")] == []  # no temporary left
    record = next(r for r in state["alerts"] if r["rule"] == "margin_below_target")
    assert record["events"]["firing"]["due"] == ["webhook"]
    assert record["events"]["firing"]["sent"] == ["webhook"]


def test_a_bad_now_is_refused_with_exit_2(db, tmp_path, monkeypatch, capsys) -> None:
    use(tmp_path, monkeypatch)
    assert main(["check", "--db", str(db), "--now", "15/03/2026"]) == 2
    assert "--now is not an ISO date and time: '15/03/2026'" in capsys.readouterr().err


def test_the_command_runs_as_cron_would(db, hook, tmp_path, monkeypatch) -> None:
    import subprocess
    import sys

    use(tmp_path, monkeypatch, webhook=hook.url())
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "-m", "alerts", "check", "--db", str(db),
                           "--now", NOW], cwd=root, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == 5 and len(hook.received) == 5


@pytest.mark.parametrize("url", [f"hooks.example.com/services/{SLACK_TOKEN}",
                                 f"http://exa mple.com/{SLACK_TOKEN}",
                                 f"file:///tmp/{SLACK_TOKEN}"])
def test_a_malformed_url_is_named_without_quoting_it(url: str) -> None:
    from alerts.channels import DeliveryError
    from alerts.channels.http import post_json

    with pytest.raises(DeliveryError) as caught:
        post_json(url, b"{}", timeout=1)
    assert str(caught.value) == "the URL is not a valid http(s) address"


def test_retries_wait_backoff_then_twice_as_long() -> None:
    from alerts.channels import DeliveryError
    from alerts.deliver import with_retry

    waits: list[float] = []
    calls: list[dict] = []

    def flaky(event: dict) -> None:
        calls.append(event)
        if len(calls) < 3:
            raise DeliveryError("HTTP 503")

    with_retry(flaky, {"rule": "x"}, attempts=3, backoff=0.5, sleep=waits.append)
    assert (len(calls), waits) == (3, [0.5, 1.0])
    with pytest.raises(DeliveryError, match="HTTP 503"):
        calls.clear()
        with_retry(flaky, {"rule": "x"}, attempts=2, backoff=0.5, sleep=waits.append)


def test_a_channel_set_up_later_gets_new_alerts_not_the_history(
        db, hook, slack, tmp_path, monkeypatch, capsys) -> None:
    use(tmp_path, monkeypatch, webhook=hook.url())
    check(db, capsys)
    use(tmp_path, monkeypatch, name="more.toml", webhook=hook.url(), slack=slack_url(slack))
    out, _ = check(db, capsys, "2026-03-15T14:00:00")  # six hours after the newest event
    assert [line.split(" ")[:2] for line in out] == [["resolved", "users_over_cutoff_unpaid"],
                                                      ["firing", "data_stale"]]
    # Slack was not told the unpaid users fired, so it is not told they cleared either.
    assert [json.loads(r.body)["text"].split(": ")[1] for r in slack.received] == \
        ["data_stale (cost_events, 2026-03-15)"]
    assert [e["state"] for e in hook.events()][5:] == ["resolved", "firing"]


def test_email_goes_over_starttls_when_the_server_requires_it(
        db, tmp_path, monkeypatch, capsys) -> None:
    from tests.alerts_fixtures import self_signed

    cert, key = self_signed(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the client trusts the sink's certificate
    sink = SmtpSink(tls=(cert, key))
    try:
        path = use(tmp_path, monkeypatch, smtp_port=sink.port)
        path.write_text(path.read_text().replace("smtp_starttls = false",
                                                 "smtp_starttls = true"))
        settings._secrets.cache_clear()
        _, err = check(db, capsys)
        assert err == [] and len(sink.messages) == 5
        assert set(sink.logins) == {("alerts@example.com", "smtpPasswordNeverShown-9d2e")}
    finally:
        sink.close()
