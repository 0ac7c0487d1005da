"""The Weekly and Users pages show the query layer's figures (AppTest, hand-built business)."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from enforcement.policy import load_policy
from loaders.publish import connect_read_only
from queries import kpis, users, weekly
from report import cells, files, model
from tests import weekly_users_fixtures as fx

ROOT = Path(__file__).resolve().parent.parent
POLICY_FILE = fx.POLICY_FILE
POLICY = load_policy(POLICY_FILE)


@pytest.fixture
def db(make_db: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = fx.serve(make_db, tmp_path, monkeypatch)
    return path


def page(name: str, **params: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / f"{name}.py"), default_timeout=60)
    for key, value in params.items():
        at.query_params[key] = value
    return at.run()


def table_with(at: AppTest, column: str):  # noqa: ANN201 - a DataFrame
    return next(d.value for d in at.dataframe if column in d.value.columns)


# -- Weekly --------------------------------------------------------------------------------------

def test_weekly_cards_equal_the_kpi_layer_for_the_week_and_the_one_before(db: Path) -> None:
    at = page("weekly", week=fx.WEEK)
    assert not at.exception
    con = connect_read_only(db)
    now = kpis.kpis(con, "week", fx.WEEK, "UTC", POLICY)
    before = kpis.kpis(con, "week", "2026-W10", "UTC", POLICY)
    con.close()
    shown = {m.label: (m.value, m.delta) for m in at.metric}
    short = {"Share of users at target (month to date)": "Users at target (MTD)"}
    assert len(shown) == 7
    for key, label, kind in model.kpi_rows():
        label = short.get(label, label)
        if label in shown:
            assert shown[label] == (cells.show(kind, now[key]),
                                    cells.fmt_change(kind, now[key], before[key])), key
    # by hand: profit 20.00 - 5.30 = 14.70; the week before 4.00 - 2.90 = 1.10
    assert shown["Profit"] == ("$14.70", "+$13.60")
    assert shown["Cost"] == ("$5.30", "+$2.40")
    assert shown["Users at target (MTD)"][0] == cells.fmt_pct(now["users_at_target_pct"])
    assert at.query_params["week"] == fx.WEEK


def test_weekly_user_table_equals_the_query_layer_and_is_masked(db: Path) -> None:
    at = page("weekly", week=fx.WEEK)
    shown = table_with(at, "Level (MTD)")
    con = connect_read_only(db)
    table = weekly.user_table(con, week=fx.WEEK, tz="UTC", policy=POLICY)
    con.close()
    assert shown["Phone"].tolist() == ["…5555", "…2222", "…1111", "…4444", "…3333"]
    assert [Decimal(str(v)) for v in shown["Profit"]] == [
        Decimal(int(p)).scaleb(-6) for p in table["profit_micro"]]
    assert shown["Level (MTD)"].tolist() == [lv.replace("_", " ") for lv in table["level"]]
    for value in shown.to_numpy().ravel():
        assert fx.A not in str(value) and fx.F not in str(value)


def test_weekly_user_table_sends_at_most_table_rows_the_lowest_profit_first(
        db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dashboard import ui

    monkeypatch.setattr(ui, "TABLE_ROWS", 2)
    at = page("weekly", week=fx.WEEK)
    assert not at.exception
    shown = table_with(at, "Level (MTD)")
    assert shown["Phone"].tolist() == ["…5555", "…2222"]  # the two lowest week profits
    assert any("5 of 5 users" in c.value and "the 2 with the lowest profit" in c.value
               for c in at.caption)


def test_weekly_level_filter_keeps_only_the_chosen_levels(db: Path) -> None:
    at = page("weekly", week=fx.WEEK)
    at.multiselect[0].set_value(["payment_required"]).run()
    shown = table_with(at, "Level (MTD)")
    assert shown["Phone"].tolist() == ["…5555", "…1111"]  # F and A, by week profit


def test_weekly_intervention_table_equals_the_query_layer(db: Path) -> None:
    at = page("weekly", week=fx.WEEK)
    shown = table_with(at, "Users who crossed").set_index("Threshold crossed")
    assert shown.loc["warning", ["Users who crossed", "Paid within 7 days"]].tolist() == [3, 2]
    assert shown.loc["warning", "Amount paid"] == 8.0
    assert shown.loc["cutoff", ["Users who crossed", "Paid within 7 days"]].tolist() == [2, 1]


def test_every_weekly_table_shows_a_missing_value_as_a_dash(db: Path) -> None:
    """Streamlit's default for a missing cell is the word "None"; every table says "–"."""
    at = page("weekly", week=fx.WEEK)
    assert not at.exception
    assert len(at.dataframe) >= 8
    assert {d.proto.placeholder for d in at.dataframe} == {"–"}
    shown = table_with(at, "Users who crossed")
    assert shown.isna().any().any()  # the page has a missing value to show


def test_weekly_shows_the_cost_optimisation_opportunities(db: Path) -> None:
    at = page("weekly", week=fx.WEEK)
    assert not at.exception
    assert "Cost optimisation opportunities" in [h.value for h in at.subheader]
    # hand-worked in weekly_users_fixtures: every action loses money per request, worst first
    economics = table_with(at, "Unit margin")
    assert economics["Action"].tolist() == ["meal_plan", "grocery_list", "simple_message"]
    assert economics["Unit margin"].tolist() == [-1.25, -0.4, -0.1]
    assert economics["Cost per request"].tolist() == [1.5, 0.5, 0.15]
    categories = table_with(at, "Growth %")
    assert categories.to_dict("records") == [{"Category": "ai", "Cost": 5.3, "Week before": 2.9,
                                              "Growth": 2.4, "Growth %": 82.76}]
    losers = table_with(at, "Cost above revenue")
    assert losers[["Phone", "Cost above revenue"]].values.tolist() == [["…5555", 2.5]]
    accuracy = table_with(at, "Requests with both")
    assert accuracy.iloc[0][["Action", "Estimated", "Actual", "Estimate off by"]].tolist() == [
        "grocery_list", 0.9, 0.5, 80.0]


def test_weekly_defaults_to_the_newest_complete_week_and_carries_it(db: Path) -> None:
    at = page("weekly")
    assert at.selectbox[0].value == "2026-W13"
    assert at.query_params["week"] == "2026-W13"
    at.selectbox[0].set_value("2026-W11").run()
    assert at.query_params["week"] == "2026-W11"


def test_weekly_empty_week_says_so(db: Path) -> None:
    at = page("weekly", week="2026-W20")
    assert not at.exception
    assert any("No data for 2026-W20" in w.value for w in at.warning)


def test_weekly_offers_every_report_format(db: Path) -> None:
    at = page("weekly", week=fx.WEEK)
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == [f"Download .{fmt}" for fmt in files.FORMATS]


# -- Users ---------------------------------------------------------------------------------------

def test_users_page_shows_the_month_to_date_of_the_found_user(db: Path) -> None:
    at = page("users", week=fx.WEEK)
    at.text_input[0].input("1111").run()
    assert not at.exception
    con = connect_read_only(db)
    ev = users.month_events(con, user=fx.A, month="2026-03", tz="UTC", policy=POLICY)
    con.close()
    last = ev.iloc[-1]
    shown = {m.label: m.value for m in at.metric}
    assert shown["Cost, month to date"] == cells.fmt_money(cells.to_usd(last["mtd_cost_micro"]))
    assert shown["Cost, month to date"] == "$2.10"
    assert shown["Revenue, month to date"] == "$5.00"
    assert shown["Profit, month to date"] == "$2.90"
    assert shown["Level"] == "payment required"
    assert shown["Token balance"] == "200"
    events = table_with(at, "Level after")
    assert len(events) == 6
    assert [Decimal(str(v)) for v in events["Cost MTD"]] == [
        Decimal(int(c)).scaleb(-6) for c in ev["mtd_cost_micro"]]
    assert at.query_params["month"] == "2026-03"  # from the week's month


def test_users_page_never_shows_the_full_phone(db: Path) -> None:
    at = page("users")
    at.text_input[0].input("1111").run()
    options = " ".join(at.selectbox[0].options)
    assert "…1111" in options and fx.A not in options
    assert "1111" not in " ".join(f"{k}={v}" for k, v in at.query_params.items())


def test_users_page_with_no_match_says_so(db: Path) -> None:
    at = page("users")
    at.text_input[0].input("98765").run()
    assert not at.exception
    assert any("No user" in w.value for w in at.warning)


def test_weekly_counts_are_grouped_in_thousands_and_levels_read_as_words(db: Path) -> None:
    """A count column is formatted by the browser's locale ("14,565"), as the files show it;
    the level filter offers "payment required", not the code's `payment_required`."""
    at = page("weekly", week=fx.WEEK)
    crossings = next(d for d in at.dataframe if "Users who crossed" in d.value.columns)
    config = json.loads(crossings.proto.columns)
    assert config["Users who crossed"]["type_config"]["format"] == "localized"
    assert config["Window still open"]["type_config"]["format"] == "localized"
    assert config["Amount paid"]["type_config"]["format"] == "dollar"  # money keeps dollars
    assert "Threshold crossed" not in config  # text keeps no number format
    assert at.multiselect[0].options[-1] == "payment required"
    assert at.multiselect[0].value[-1] == "payment_required"  # the value stays the code


def test_weekly_chart_titles_fit_a_phone_and_levels_read_as_words(db: Path) -> None:
    """At 390 px a Plotly title longer than about 40 characters is cut off: each line of
    every Weekly chart's title fits; the level chart's bars are named in words."""
    at = page("weekly", week=fx.WEEK)
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    assert len(specs) >= 5
    for spec in specs:
        title = spec["layout"]["title"]["text"]
        assert all(len(line) <= 40 for line in title.split("<br>")), title
    levels = next(s for s in specs if s["layout"]["title"]["text"].startswith("Users by level"))
    assert levels["data"][0]["x"][-1] == "payment required"
