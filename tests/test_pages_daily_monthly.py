"""The Daily and Monthly pages show exactly the query layer's figures (AppTest over the app).

The app is run from dashboard/app.py (st.navigation, Daily is the default page) on the demo
business; expected values come from queries.kpis on the same database.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core import targets
from dashboard import ui
from loaders.publish import connect_read_only
from queries import kpis as K

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "dashboard" / "app.py")
POLICY = ROOT / "enforcement" / "policies" / "seed-default.toml"


@pytest.fixture
def app(demo_db, monkeypatch) -> AppTest:
    monkeypatch.setenv("PROFIT_DB", str(demo_db))
    monkeypatch.setenv("PROFIT_TIMEZONE", "UTC")
    monkeypatch.setenv("PROFIT_POLICY", str(POLICY))
    return AppTest.from_file(APP, default_timeout=120)


@pytest.fixture
def con(demo_db):
    c = connect_read_only(demo_db)
    yield c
    c.close()


def shown(at: AppTest) -> dict[str, str]:
    assert not at.exception, [e.value for e in at.exception]
    return {m.label: m.value for m in at.metric}


def test_daily_page_opens_on_the_latest_day_with_data_and_shows_its_figures(app, con):
    app.run()
    _, last = K.data_span(con, "UTC")
    k = K.kpis(con, "day", last.isoformat(), "UTC", POLICY)
    assert app.title[0].value == "Daily"
    assert app.date_input[0].value == last
    cards = shown(app)
    for verdict_card in ("Profit this month", "Projected month-end"):  # tests/test_morning.py
        cards.pop(verdict_card)
    cards.pop(next(label for label in cards if label.startswith("Pace vs ")))
    assert cards == {
        "Profit": ui.money(k["profit_usd"]),
        "Revenue": ui.money(k["revenue_usd"]),
        "Cost": ui.money(k["cost_usd"]),
        "Margin": ui.pct(k["margin_pct"]),
        "Active users": f"{k['active_users']:,}",
        "Users at target (MTD)": ui.pct(k["users_at_target_pct"]),
        "Payment conversion": ui.pct(k["payment_conversion_pct"]),
    }


def test_daily_page_reads_the_day_from_the_link_and_shows_the_change_from_the_day_before(
        app, con):
    app.query_params["day"] = "2026-02-10"
    app.run()
    k = K.kpis(con, "day", "2026-02-10", "UTC", POLICY)
    p = K.kpis(con, "day", "2026-02-09", "UTC", POLICY)
    metrics = {m.label: m for m in app.metric}
    assert metrics["Profit"].value == ui.money(k["profit_usd"])
    assert metrics["Profit"].delta == ui.change(k["profit_usd"], p["profit_usd"])
    assert metrics["Active users"].delta == ui.change(k["active_users"], p["active_users"],
                                                      "count")
    assert app.query_params["day"] == "2026-02-10"


def test_daily_users_at_target_card_is_judged_against_the_month_3_target(app, con):
    # The demo starts in January: March is month 3, whose target is 99%.
    app.query_params["day"] = "2026-03-15"
    app.run()
    k = K.kpis(con, "day", "2026-03-15", "UTC", POLICY)
    target = targets.users_at_target(3)
    assert target.value == 99
    badge = ui.target_badge(target.met(k["users_at_target_pct"]), target.text)
    assert badge in [c.value for c in app.caption]


def test_daily_page_ignores_a_malformed_day_in_the_link(app, con):
    app.query_params["day"] = "2026-02-31"
    app.run()
    _, last = K.data_span(con, "UTC")
    assert app.date_input[0].value == last
    assert shown(app)["Cost"] == ui.money(K.kpis(con, "day", last.isoformat())["cost_usd"])


def test_picking_a_day_updates_the_link_and_the_figures(app, con):
    app.run()
    app.date_input[0].set_value(date(2026, 2, 12)).run()
    k = K.kpis(con, "day", "2026-02-12", "UTC", POLICY)
    assert app.query_params["day"] == "2026-02-12"
    assert shown(app)["Revenue"] == ui.money(k["revenue_usd"])


def _monthly_cards(k: dict) -> dict[str, str]:
    return {
        "Revenue": ui.money(k["revenue_usd"]), "Cost": ui.money(k["cost_usd"]),
        "Profit": ui.money(k["profit_usd"]), "Margin": ui.pct(k["margin_pct"]),
        "Profit per user": ui.money(k["profit_per_user"]),
        "Cost per user": ui.money(k["cost_per_user"]),
        "Revenue per user": ui.money(k["revenue_per_user"]),
        "Users at target (MTD)": ui.pct(k["users_at_target_pct"]),
        "Payment conversion": ui.pct(k["payment_conversion_pct"]),
        "Retention": ui.pct(k["retention_pct"]),
        "Token purchase rate": ui.pct(k["token_purchase_rate_pct"]),
        "Active users": f"{k['active_users']:,}", "New users": f"{k['new_users']:,}",
        "Paying users": f"{k['paying_users']:,}",
        # the guide's secondary figures
        "Purchases per buyer": "–" if k["token_purchases_per_buyer"] is None
        else f"{k['token_purchases_per_buyer']:.2f}",
        "Affiliate CTR": ui.pct(k["affiliate_ctr_pct"]),
        "Affiliate conversion": ui.pct(k["affiliate_conversion_pct"]),
        "Premium upgrades": ui.pct(k["premium_upgrade_pct"]),
    }


def test_monthly_page_shows_the_months_figures_against_their_targets(app, con):
    app.query_params["month"] = "2026-02"
    app.switch_page("../pages/monthly.py").run()
    k = K.kpis(con, "month", "2026-02", "UTC", POLICY)
    assert app.title[0].value == "Monthly"
    assert shown(app) == _monthly_cards(k)
    revenue = targets.target("revenue_usd")
    assert ui.target_badge(revenue.met(k["revenue_usd"]), revenue.text) in [
        c.value for c in app.caption]
    # four Plotly charts: revenue mix, cohorts, profit distribution, segments
    assert len(app.get("plotly_chart")) == 4
    # the segments' user counts grouped in thousands by the browser; text keeps no format
    segments = json.loads(app.dataframe[0].proto.columns)
    assert segments["users"]["type_config"]["format"] == "localized"
    assert "segment" not in segments
    assert app.dataframe[0].proto.placeholder == "–"


def test_a_day_picked_on_daily_carries_to_the_monthly_page(app, con):
    app.run()
    app.date_input[0].set_value(date(2026, 2, 12)).run()
    app.switch_page("../pages/monthly.py").run()
    assert app.selectbox[0].value == "2026-02"
    assert shown(app)["Revenue"] == ui.money(K.kpis(con, "month", "2026-02")["revenue_usd"])


def test_a_day_picked_on_daily_carries_to_the_weekly_page_and_back(app, con):
    app.run()
    app.date_input[0].set_value(date(2026, 2, 12)).run()  # a Thursday of 2026-W07
    app.switch_page("../pages/weekly.py").run()
    assert app.selectbox[0].value == "2026-W07"
    app.switch_page("../pages/monthly.py").run()
    # the week hands over its Sunday, 2026-02-15, so Monthly shows February
    assert app.selectbox[0].value == "2026-02"


@pytest.mark.parametrize("page", ["daily", "monthly"])
def test_every_chart_title_fits_a_phone(app, page) -> None:
    """Plotly does not wrap a title: past about 40 characters it is cut off at 390 px, so a
    long one is written on two lines."""
    if page != "daily":
        app.switch_page(f"../pages/{page}.py")
    app.run()
    titles = [json.loads(c.proto.spec)["layout"]["title"]["text"]
              for c in app.get("plotly_chart")]
    assert len(titles) >= 4
    for title in titles:
        assert all(len(line) <= 40 for line in title.split("<br>")), title
