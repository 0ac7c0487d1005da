"""The alerts in the app: what fires now (landing page), what was sent (Data page), and an
admin's test alert to each channel. The rules and channels are `alerts/`; this only shows
them. A page never writes: the state file is read here, written only by `alerts check`."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import streamlit as st

from alerts import channels as channel_mod
from alerts import check, deliver, state
from alerts.channels import DeliveryError
from alerts.model import FIRING, RESOLVED
from core import secrecy, settings
from dashboard import auth, data, ui

CRON = "0 * * * * cd /srv/profit && .venv/bin/python -m alerts check"


def now() -> datetime:
    """The clock the landing page judges at, to the 5 minutes (so the result caches)."""
    t = datetime.now(UTC).replace(second=0, microsecond=0)
    return t.replace(minute=t.minute - t.minute % 5)


def _conf() -> settings.AlertSettings | None:
    try:
        return settings.alerts()
    except ValueError as exc:
        st.warning(f"Alerts are not checked: {exc}")
        return None


def firing_now() -> None:
    """A small section: every alert rule that fires at this moment, judged live."""
    if _conf() is None:
        return
    rows = data.cached(check.firing_now)(now=now().isoformat(), tz=settings.timezone(),
                                         policy=str(settings.policy_path()))
    with st.container(border=True, key="alerts_firing_now"):
        st.markdown("**Firing now**")
        if not rows:
            st.caption("No alert rule is firing.")
        for row in rows:
            st.warning(row["message"], icon=":material/notifications_active:")


def _sent_to(step: dict | None) -> str:
    return ", ".join(step["sent"]) if step else ""


def sent_table(records: list[dict], channels: list[str]) -> pd.DataFrame:
    """One row per alert, newest first: its state, where each of its messages went, and
    what is still owed to the channels set up now."""
    rows = []
    for r in records:
        fired, resolved = r["events"].get(FIRING), r["events"].get(RESOLVED)
        owed = [f"{what} → {ch}" for what, ch in state.pending(r, channels)]
        rows.append({
            "fired": fired["at"] if fired else None, "rule": r["rule"], "key": r["key"],
            "period": r["period"], "state": r["state"],
            "message": (resolved or fired)["message"],
            "value": (resolved or fired)["value"], "threshold": (resolved or fired)["threshold"],
            "sent to": _sent_to(fired), "resolved sent to": _sent_to(resolved),
            "not sent yet": ", ".join(owed)})
    frame = pd.DataFrame(rows, columns=["fired", "rule", "key", "period", "state", "message",
                                        "value", "threshold", "sent to", "resolved sent to",
                                        "not sent yet"])
    for column in ("value", "threshold"):  # mixed numbers and money strings: show as text
        frame[column] = frame[column].map(lambda v: "–" if v is None else str(v))
    return frame.sort_values("fired", ascending=False, kind="stable").reset_index(drop=True)


def sent_list() -> None:
    """The Data page's list of the alerts sent, with their state."""
    st.subheader("Alerts sent")
    conf = _conf()
    if conf is None:
        return
    try:
        current = state.load(conf.state_path)
    except state.StateError as exc:
        st.warning(str(exc))
        return
    if not current["alerts"]:
        st.info(f"No alert has fired yet. Alerts are checked by `{CRON}` (hourly).")
    else:
        st.caption(f"Last check {current['last_check']}; "
                   f"{len(state.firing(current))} firing of {len(current['alerts'])} listed.")
        ui.dataframe(sent_table(current["alerts"], list(channel_mod.configured(conf))),
                     hide_index=True, width="stretch", key="alerts_sent")
    test_buttons(conf)


def test_buttons(conf: settings.AlertSettings) -> None:
    """An admin (or, with no sign-in, the machine's owner on localhost, as on the Targets
    page) may send a test alert to each configured channel; nobody else sees this."""
    viewer = auth.current_viewer()
    if viewer is None or not (viewer.admin or viewer.mode == "local"):
        return
    names = list(channel_mod.configured(conf))
    if not names:
        st.caption("No alert channel is set up in `[alerts]` (webhook_url, "
                   "slack_webhook_url or smtp_host, email_from and email_to).")
        return
    hidden = check.hidden_values(conf)
    for col, name in zip(st.columns(len(names)), names, strict=True):
        with col:
            if st.button(f"Send a test alert to {name}", key=f"alerts_test_{name}",
                         icon=":material/send:"):
                try:
                    deliver.send_test(conf, name, viewer.name)
                except DeliveryError as exc:
                    st.error(secrecy.redact(f"The test alert to {name} failed: {exc}", hidden))
                else:
                    st.success(f"Test alert sent to {name}.")
