"""The alerts in the app (AppTest): the Data page lists what was sent with its state, the
landing page shows what fires now, and an admin can send a test alert to each channel."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from alerts.__main__ import main
from dashboard import alerts_panel, auth
from tests.alerts_fixtures import (
    HISTORY_COSTS,
    HISTORY_REVENUE,
    NOW,
    SECRETS,
    WebhookSink,
    write_alert_secrets,
)

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "dashboard" / "app.py")
DATA_PAGE = str(ROOT / "pages" / "data.py")


@pytest.fixture
def db(make_db, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hook: WebhookSink) -> Path:
    path = make_db(costs=HISTORY_COSTS, revenue=HISTORY_REVENUE)
    monkeypatch.setenv("PROFIT_DB", str(path))
    monkeypatch.setenv("PROFIT_TIMEZONE", "UTC")
    monkeypatch.delenv("PROFIT_POLICY", raising=False)
    monkeypatch.delenv("PROFIT_ALERTS_STATE", raising=False)
    monkeypatch.setenv("PROFIT_SECRETS", str(write_alert_secrets(tmp_path, webhook=hook.url())))
    return path


def test_the_data_page_lists_the_alerts_sent_with_their_state(db, hook, capsys) -> None:
    assert main(["check", "--db", str(db), "--now", NOW]) == 0
    assert main(["check", "--db", str(db), "--now", "2026-03-15T12:00:00"]) == 0  # one clears
    capsys.readouterr()
    at = AppTest.from_file(DATA_PAGE, default_timeout=60).run()
    assert not at.exception, [e.value for e in at.exception]
    listed = next(d.value for d in at.dataframe if "rule" in d.value.columns)
    by_rule = {(r.rule, r.key): r for r in listed.itertuples()}
    assert len(listed) == 5
    unpaid = by_rule[("users_over_cutoff_unpaid", "users")]
    assert (unpaid.state, unpaid.value, unpaid.period) == ("resolved", "0", "2026-03")
    assert (unpaid._9, unpaid._10) == ("webhook", "webhook")  # sent to, resolved sent to
    margin = by_rule[("margin_below_target", "margin_pct")]
    assert (margin.state, margin.value, margin.threshold) == ("firing", "47.71", "90.0")
    assert margin.message.startswith("Margin, March 2026 to date: 47.7%")
    assert "Last check 2026-03-15T12:00:00+00:00; 4 firing of 5 listed." in \
        [c.value for c in at.caption]
    assert [b for b in at.button if b.label.startswith("Send a test alert")] == []  # no admin


def test_the_landing_page_shows_what_fires_now(db, monkeypatch) -> None:
    monkeypatch.setattr(alerts_panel, "now", lambda: datetime.fromisoformat(NOW + "+00:00"))
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception, [e.value for e in at.exception]
    # The section comes first, under the day's caption; the page's own spike list follows.
    firing = [w.value for w in at.warning][:5]
    assert firing == [
        "2 users over the $2.00 cutoff with no payment, March 2026 to date",
        "Users at target, March 2026 to date: 40.0% (target: at least 95%)",
        "Users at target, March 2026 to date: 40.0%; 100.0% at the same point of "
        "February 2026",
        "Cost per user on 2026-03-14: $1.3500, 33.8× the usual $0.0400 "
        "(median of the 28 days before)",
        "Margin, March 2026 to date: 47.7% (target: at least 90%); profit $6.68 on "
        "revenue $14.00",
    ]


def test_the_landing_page_says_when_nothing_fires(db, monkeypatch, tmp_path) -> None:
    extra = "".join(f"[alerts.{r}]\nenabled = false\n" for r in (
        "users_over_cutoff_unpaid", "users_at_target_below_target", "cost_per_user_spike",
        "margin_below_target"))
    monkeypatch.setenv("PROFIT_SECRETS", str(write_alert_secrets(tmp_path, extra=extra,
                                                                 name="quiet.toml")))
    monkeypatch.setattr(alerts_panel, "now", lambda: datetime.fromisoformat(NOW + "+00:00"))
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception, [e.value for e in at.exception]
    assert not any("cutoff" in w.value or "Margin" in w.value for w in at.warning)
    assert "No alert rule is firing." in [c.value for c in at.caption]


def test_an_admin_sends_a_test_alert_to_each_channel(db, hook) -> None:
    at = AppTest.from_file(DATA_PAGE, default_timeout=60)
    at.session_state["_profit_viewer"] = auth.Viewer("Boss", admin=True, mode="password")
    at.run()
    buttons = [b for b in at.button if b.label.startswith("Send a test alert")]
    assert [b.label for b in buttons] == ["Send a test alert to webhook"]
    buttons[0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert [s.value for s in at.success][-1] == "Test alert sent to webhook."
    (sent,) = hook.events()
    assert (sent["rule"], sent["key"], sent["state"]) == ("test", "webhook", "firing")
    assert sent["message"] == ("Test alert from the profit dashboard, sent by Boss: the "
                               "webhook channel works.")
    assert not (db.parent / "test.alerts.json").exists()  # a test is never recorded


def test_a_failed_test_alert_is_named_without_the_address(db, hook, tmp_path,
                                                          monkeypatch) -> None:
    from tests.alerts_fixtures import refused_url

    url = refused_url(f"/hook/{SECRETS[0]}")
    monkeypatch.setenv("PROFIT_SECRETS", str(write_alert_secrets(tmp_path, webhook=url,
                                                                 name="down.toml")))
    at = AppTest.from_file(DATA_PAGE, default_timeout=60)
    at.session_state["_profit_viewer"] = auth.Viewer("Boss", admin=True, mode="password")
    at.run()
    next(b for b in at.button if b.label == "Send a test alert to webhook").click().run()
    assert [e.value for e in at.error] == [
        "The test alert to webhook failed: connection refused"]
    shown = "\n".join(str(e.value) for kind in ("error", "caption", "markdown", "info")
                      for e in getattr(at, kind))
    assert url not in shown and SECRETS[0] not in shown


@pytest.mark.parametrize(("viewer", "shown"), [
    (auth.Viewer("Ana", admin=False, mode="password"), False),
    (auth.Viewer("Ana", admin=False, mode="oidc"), False),
    (auth.Viewer("local", admin=False, mode="local"), True),  # the owner, on localhost only
])
def test_only_an_admin_or_the_local_owner_sees_the_test_buttons(viewer, shown, db) -> None:
    at = AppTest.from_file(DATA_PAGE, default_timeout=60)
    at.session_state["_profit_viewer"] = viewer
    at.run()
    labels = [b.label for b in at.button if b.label.startswith("Send a test alert")]
    assert labels == (["Send a test alert to webhook"] if shown else [])
