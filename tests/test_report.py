"""The weekly report: each format holds the query layer's numbers, safely, and says so when
a week is empty. Business: weekly_users_fixtures (W11: revenue 20.00, cost 5.30)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from bs4 import BeautifulSoup

from core.formats import round_half_up
from core.privacy import mask_phone
from enforcement.money import to_micro
from enforcement.policy import load_policy
from loaders.publish import connect_read_only
from queries import kpis, weekly
from report import cells, columns, files, model, pdf, xlsx
from report import csv as report_csv
from report.command import main
from tests import weekly_users_fixtures as fx

ROOT = Path(__file__).resolve().parent.parent
POLICY_FILE = ROOT / "enforcement" / "policies" / "seed-default.toml"
POLICY = load_policy(POLICY_FILE)
ARTIFACTS = ROOT / "tests" / "artifacts"
MakeDb = Callable[..., Path]


@pytest.fixture
def db(make_db: MakeDb) -> Path:
    return fx.build(make_db)


def cli(db: Path, out: Path, *extra: str) -> int:
    return main(["weekly", "--db", str(db), "--out", str(out), "--timezone", "UTC",
                        "--policy", str(POLICY_FILE), *extra])


def expected(db: Path, week: str = fx.WEEK) -> tuple[dict, dict, dict]:
    """The query layer's figures for the week: KPIs, the week before, users by phone."""
    con = connect_read_only(db)
    try:
        now = kpis.kpis(con, "week", week, "UTC", POLICY)
        before = kpis.kpis(con, "week", kpis.previous_period("week", week), "UTC", POLICY)
        table = weekly.user_table(con, week=week, tz="UTC", policy=POLICY)
    finally:
        con.close()
    return now, before, {r["user_id"]: r for r in table.to_dict("records")}


def usd(micro: int) -> Decimal:
    return Decimal(micro).scaleb(-6)


def csv_blocks(path: Path) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """A weekly csv's key figures and its users, each block read by its own header."""
    return report_csv.split(path.read_text(encoding="utf-8-sig"))


# -- CSV -----------------------------------------------------------------------------------------

def test_csv_holds_the_user_table_of_the_query_layer(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "w.csv"
    assert cli(db, out, "--week", fx.WEEK) == 0
    _figures, rows = csv_blocks(out)
    _, _, users = expected(db)
    assert len(rows) == len(users) == 5
    by_phone = {mask_phone(u): r for u, r in users.items()}
    for row in rows:
        want = by_phone[row["phone"]]
        for key, csv_name, _label, kind in columns.USER_COLUMNS:
            if kind == cells.MONEY:
                assert Decimal(row[csv_name]) == usd(want[key]), (row["phone"], csv_name)
        assert row["level_mtd"] == want["level"]
        assert int(row["requests"]) == want["requests"]
    a = next(r for r in rows if r["phone"] == "…1111")
    assert (a["cost_usd"], a["profit_usd"], a["mtd_profit_usd"], a["token_balance"]) == (
        "1.10", "3.90", "2.90", "220")


def test_csv_opens_with_the_weeks_key_figures_then_a_blank_line(db: Path, tmp_path: Path
                                                               ) -> None:
    out = tmp_path / "w.csv"
    assert cli(db, out, "--week", fx.WEEK) == 0
    lines = out.read_bytes().decode("utf-8-sig").split("\r\n")  # CRLF, as Excel writes
    assert lines[0] == "figure,key,unit,2026-W11,2026-W10,change,target,target_met"
    assert lines[len(model.kpi_rows()) + 1] == ""  # one blank line, then the users' header
    assert lines[len(model.kpi_rows()) + 2].startswith("phone,level_mtd,")
    figures, _users = csv_blocks(out)
    now, before, _ = expected(db)
    assert [f["key"] for f in figures] == [key for key, _l, _k in model.kpi_rows()]
    by_key = {f["key"]: f for f in figures}
    for key, _label, kind in model.kpi_rows():
        for column, want in (("2026-W11", now[key]), ("2026-W10", before[key])):
            got = by_key[key][column]
            if want is None:
                assert got == "", key
            elif kind == cells.MONEY:  # exact
                assert Decimal(got) == want, key
            elif kind in (cells.PCT, cells.RATIO):  # to two decimals, half up
                assert Decimal(got) == round_half_up(want, 2), key
            else:
                assert int(got) == want, key
    # by hand: revenue 20.00 against 4.00; margin 14.70 / 20.00 = 73.5% against
    # 1.10 / 4.00 = 27.5%: +46.0 points, below the 90% target; cost has no weekly target
    assert [by_key["revenue_usd"][c] for c in ("2026-W11", "2026-W10", "change")] == [
        "20.00", "4.00", "16.00"]
    margin = by_key["margin_pct"]
    assert (margin["2026-W11"], margin["2026-W10"], margin["change"], margin["target"],
            margin["target_met"]) == ("73.5", "27.5", "46.0", "at least 90%", "false")
    assert (by_key["cost_usd"]["target"], by_key["cost_usd"]["target_met"]) == ("", "")
    assert by_key["active_users"]["change"] == "1"  # 4 users (A, B, E, F) against 3 (A, D, E)


def test_csv_masks_phones_unless_asked(db: Path, tmp_path: Path) -> None:
    masked, unmasked = tmp_path / "m.csv", tmp_path / "u.csv"
    assert cli(db, masked, "--week", fx.WEEK) == 0
    assert cli(db, unmasked, "--week", fx.WEEK, "--unmasked") == 0
    assert fx.A not in masked.read_text(encoding="utf-8-sig")
    assert "…1111" in masked.read_text(encoding="utf-8-sig")
    # a full phone starts with "+", so it is written as text too
    assert f"'{fx.A}" in unmasked.read_text(encoding="utf-8-sig")


def test_formula_partner_stays_text_in_csv(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "w.csv"
    assert cli(db, out, "--week", fx.WEEK) == 0
    _figures, rows = csv_blocks(out)
    b = next(r for r in rows if r["phone"] == "…2222")
    assert b["partners"] == "'" + fx.PARTNER


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_every_formula_start_is_neutralised(text: str) -> None:
    assert cells.csv_safe(text) == "'" + text
    assert cells.csv_safe("plain =text") == "plain =text"


# -- XLSX ----------------------------------------------------------------------------------------

def test_xlsx_sheets_hold_the_query_layers_numbers_as_numbers(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "w.xlsx"
    assert cli(db, out, "--week", fx.WEEK) == 0
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["summary", "users", "streams", "costs", "opportunities",
                             "interventions"]
    now, before, users = expected(db)

    summary = {row[0].value: row for row in wb["summary"].iter_rows() if row[0].value}
    for key, label, kind in model.kpi_rows():
        cell, prev = summary[label][1], summary[label][2]
        for got, want in ((cell, now[key]), (prev, before[key])):
            if want is None:
                assert got.value is None, label
            elif kind == cells.MONEY:
                assert got.data_type == "n" and got.number_format == xlsx.MONEY_FORMAT
                assert round(Decimal(str(got.value)), 6) == want, label
            elif kind == cells.PCT:
                assert got.value == round(want, 2), label
            else:
                assert got.value == want, label
    assert summary["Revenue"][1].value == 20 and summary["Cost"][1].value == 5.3

    ws = wb["users"]
    header = [c.value for c in ws[1]]
    assert header == [label for _k, _c, label, _kind in columns.USER_COLUMNS]
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert len(rows) == len(users)
    by_phone = {mask_phone(u): r for u, r in users.items()}
    for row in rows:
        want = by_phone[row[0]]
        for i, (key, _c, _label, kind) in enumerate(columns.USER_COLUMNS):
            if kind == cells.MONEY:
                assert Decimal(str(row[i])) == usd(want[key]), (row[0], key)
    assert ws["E2"].number_format == xlsx.MONEY_FORMAT


def test_xlsx_streams_costs_and_interventions_sheets(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "w.xlsx"
    assert cli(db, out, "--week", fx.WEEK) == 0
    wb = openpyxl.load_workbook(out)
    streams = {r[0]: r for r in wb["streams"].iter_rows(min_row=2, max_row=6, values_only=True)}
    assert streams["tokens"][1:3] == (18, 0) and streams["premium"][1:4] == (0, 4, -4)
    costs = {r[0]: r for r in wb["costs"].iter_rows(min_row=2, max_row=4, values_only=True)}
    assert costs["meal_plan"][1:3] == (4.5, 2.6)
    inter = {r[0]: r for r in wb["interventions"].iter_rows(min_row=2, max_row=4,
                                                             values_only=True)}
    assert inter["warning"][2:6] == (3, 2, 66.67, 8)
    assert inter["cutoff"][2:6] == (2, 1, 50, 5)


def test_xlsx_opportunities_sheet_holds_the_four_tables(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "w.xlsx"
    assert cli(db, out, "--week", fx.WEEK) == 0
    rows = [r for r in openpyxl.load_workbook(out)["opportunities"].iter_rows(values_only=True)]
    first = [r[0] for r in rows]
    at = {name: first.index(name) for name in (
        "Unit economics per action", "Categories whose cost grew",
        "Users whose cost exceeds their revenue the most",
        "Estimated against actual cost per action")}
    # the fixture's hand-worked W11: every action loses money on each request, worst first
    economics = rows[at["Unit economics per action"] + 3:][:3]
    assert [r[:6] for r in economics] == [("meal_plan", 3, 1.5, 5, 0.25, -1.25),
                                          ("grocery_list", 1, 0.5, 2, 0.1, -0.4),
                                          ("simple_message", 2, 0.15, 1, 0.05, -0.1)]
    assert rows[at["Categories whose cost grew"] + 3][:5] == ("ai", 5.3, 2.9, 2.4, 82.76)
    assert rows[at["Users whose cost exceeds their revenue the most"] + 3][:4] == (
        "…5555", 2.5, 0, 2.5)
    assert rows[at["Estimated against actual cost per action"] + 3][:8] == (
        "grocery_list", 1, 0.9, 0.5, 0.4, 80, 0.4, 0)
    unit = openpyxl.load_workbook(out)["opportunities"].cell(at["Unit economics per action"]
                                                             + 4, 3)
    assert unit.number_format == xlsx.UNIT_MONEY_FORMAT


def test_formula_partner_stays_text_in_xlsx(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "w.xlsx"
    assert cli(db, out, "--week", fx.WEEK) == 0
    wb = openpyxl.load_workbook(out)
    cells = [c for ws in wb for row in ws.iter_rows() for c in row if c.value == fx.PARTNER]
    assert len(cells) >= 2  # the users sheet and the partners table
    assert all(c.data_type == "s" for c in cells)
    with zipfile.ZipFile(out) as z:  # no formula element anywhere in the file
        assert not any(b"<f>" in z.read(n) or b"<f " in z.read(n)
                       for n in z.namelist() if n.startswith("xl/worksheets/"))


def test_xlsx_columns_are_sized_to_their_text(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "w.xlsx"
    assert cli(db, out, "--week", fx.WEEK) == 0
    ws = openpyxl.load_workbook(out)["users"]
    # "Partners / plans" holds =HYPERLINK("http://x","y") (26 characters) -> width 28
    assert ws.column_dimensions["M"].width == len(fx.PARTNER) + 2
    assert ws.column_dimensions["B"].width == len("payment_required") + 2


# -- HTML ----------------------------------------------------------------------------------------

def test_html_shows_the_query_layers_figures(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "w.html"
    assert cli(db, out, "--week", fx.WEEK) == 0
    soup = BeautifulSoup(out.read_text(encoding="utf-8"), "html.parser")
    now, before, users = expected(db)
    for key, _label, kind in model.kpi_rows():
        row = soup.select_one(f'#kpis tr[data-key="{key}"]').find_all("td")
        assert row[1].get_text() == cells.show(kind, now[key]), key
        assert row[2].get_text() == cells.show(kind, before[key]), key
    revenue = soup.select_one('#kpis tr[data-key="revenue_usd"]').find_all("td")
    assert [c.get_text() for c in revenue[1:4]] == ["$20.00", "$4.00", "+$16.00"]
    margin = soup.select_one('#kpis tr[data-key="margin_pct"]').find_all("td")
    assert "bad" in margin[1]["class"]  # 73.5% < 90%: red
    rows = soup.select("#users tbody tr")
    assert len(rows) == len(users)
    first = [td.get_text() for td in rows[0].find_all("td")]
    assert first[:7] == ["…5555", "payment required", "no", "1", "$2.50", "$0.00", "-$2.50"]
    levels = {tr.find_all("td")[0].get_text(): tr.find_all("td")[1].get_text()
              for tr in soup.select("#levels tbody tr")}
    assert levels == {k: str(v) for k, v in now["users_by_level"].items()}
    inter = [td.get_text() for td in soup.select("#interventions tbody tr")[0].find_all("td")]
    assert inter == ["warning", "$1.50", "3", "2", "66.7%", "$8.00", "0"]


def test_html_lists_the_cost_optimisation_opportunities(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "w.html"
    assert cli(db, out, "--week", fx.WEEK) == 0
    soup = BeautifulSoup(out.read_text(encoding="utf-8"), "html.parser")

    def table(table_id: str) -> list[list[str]]:
        return [[td.get_text() for td in tr.find_all("td")]
                for tr in soup.select(f"#{table_id} tbody tr")]

    # meal_plan: $4.50 over 3 requests = $1.50 each against 5 tokens x $0.05 = $0.25
    assert table("economics")[0] == ["meal_plan", "3", "$1.5000", "5", "$0.2500", "-$1.2500",
                                     "$4.50", "$0.75", "-$3.75"]
    assert [r[0] for r in table("economics")] == ["meal_plan", "grocery_list",
                                                  "simple_message"]
    assert "neg" in soup.select_one("#economics tbody tr").find_all("td")[5]["class"]
    assert table("categories") == [["ai", "$5.30", "$2.90", "$2.40", "82.8%"]]
    assert table("loss-users") == [["…5555", "$2.50", "$0.00", "$2.50", "1",
                                    "payment required"]]
    assert table("accuracy") == [["grocery_list", "1", "$0.90", "$0.50", "$0.40", "80.0%",
                                  "$0.4000", "0"]]
    headings = [h.get_text() for h in soup.find_all("h2")]
    assert headings.index("Cost optimisation opportunities") == \
        headings.index("Top cost drivers") + 1


def test_html_is_self_contained(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "w.html"
    assert cli(db, out, "--week", fx.WEEK) == 0
    text = out.read_text(encoding="utf-8")
    soup = BeautifulSoup(text, "html.parser")
    assert not soup.select("script[src]") and not soup.select("link[href]")
    assert "Plotly.newPlot" in text and len(soup.select("div.chart")) == 6
    assert fx.A not in text  # masked, hover text included


# -- empty weeks and bad arguments ------------------------------------------------------------

def test_a_week_without_data_gives_a_report_that_says_so(db: Path, tmp_path: Path) -> None:
    for fmt in ("html", "xlsx", "csv"):
        assert cli(db, tmp_path / f"e.{fmt}", "--week", "2026-W20") == 0
    soup = BeautifulSoup((tmp_path / "e.html").read_text(encoding="utf-8"), "html.parser")
    assert "No data for 2026-W20" in soup.select_one("#empty").get_text()
    assert soup.select("#users tbody tr") == []
    first = openpyxl.load_workbook(tmp_path / "e.xlsx")["summary"]["A5"].value
    assert first.startswith("No data for 2026-W20")
    figures, users = csv_blocks(tmp_path / "e.csv")
    assert users == []  # the user table is its header alone
    assert (tmp_path / "e.csv").read_bytes().decode("utf-8-sig").endswith(
        ",".join(c for _k, c, _l, _kind in columns.USER_COLUMNS) + "\r\n")
    revenue = next(f for f in figures if f["key"] == "revenue_usd")
    assert (revenue["2026-W20"], revenue["2026-W19"], revenue["change"]) == ("0.00", "0.00",
                                                                             "0.00")


@pytest.mark.parametrize("week", ["2026-W99", "2026-11", "week 11"])
def test_bad_week_exits_2_with_one_line(db: Path, tmp_path: Path, week: str,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(db, tmp_path / "x.html", "--week", week) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "week" in err
    assert not (tmp_path / "x.html").exists()


def test_bad_week_exits_2_from_the_command_line(db: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "dashboard.report", "weekly", "--db", str(db), "--week",
         "2026-W99", "--out", str(tmp_path / "x.csv")], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 2, done.stderr


def test_python_m_report_writes_the_same_file_as_python_m_dashboard_report(
        db: Path, tmp_path: Path) -> None:
    for module in ("report", "dashboard.report"):
        done = subprocess.run(
            [sys.executable, "-m", module, "weekly", "--db", str(db), "--week", fx.WEEK,
             "--timezone", "UTC", "--policy", str(POLICY_FILE), "--out",
             str(tmp_path / f"{module}.csv")], cwd=ROOT, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    assert (tmp_path / "report.csv").read_bytes() == \
        (tmp_path / "dashboard.report.csv").read_bytes()


def test_unknown_extension_exits_2(db: Path, tmp_path: Path) -> None:
    assert cli(db, tmp_path / "x.docx", "--week", fx.WEEK) == 2


def test_week_defaults_to_the_last_complete_iso_week(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "d.csv"
    code = main(["weekly", "--db", str(db), "--out", str(out), "--timezone", "UTC"],
                       today=date(2026, 3, 18))
    assert code == 0
    figures, users = csv_blocks(out)
    assert len(users) == 5 and "2026-W11" in figures[0]  # W11's five users


def test_page_and_command_build_the_same_bytes(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "w.csv"
    assert cli(db, out, "--week", fx.WEEK) == 0
    con = connect_read_only(db)
    rep = model.build_weekly(con, week=fx.WEEK, tz="UTC", policy=POLICY)
    con.close()
    assert files.render(rep, "csv") == out.read_bytes()
    assert to_micro(rep.kpis["profit_usd"]) == to_micro(Decimal("14.70"))


# -- looking at it: HTML screenshot and PDF pages ------------------------------------------------

def _chromium() -> str:
    path = shutil.which("chromium") or "/usr/bin/chromium"
    assert Path(path).exists(), "Debian chromium is needed at /usr/bin/chromium"
    return path


@pytest.mark.slow
def test_pdf_prints_the_html_report_with_its_charts(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "w.pdf"
    assert cli(db, out, "--week", fx.WEEK) == 0
    assert out.read_bytes().startswith(b"%PDF")
    assert shutil.which("pdftotext") and shutil.which("pdftoppm"), "poppler-utils needed"
    text = subprocess.run(["pdftotext", "-layout", str(out), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "Weekly profitability report: 2026-W11" in text
    assert "$20.00" in text and "$5.30" in text
    assert "Revenue by stream (USD)" in text  # a Plotly title: the charts were drawn
    ARTIFACTS.mkdir(exist_ok=True)
    for old in ARTIFACTS.glob("report-pdf-*.png"):  # an earlier run's pages prove nothing
        old.unlink()
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "3", str(out),
                    str(ARTIFACTS / "report-pdf")], check=True)
    # pdftoppm pads the page number to the page count's width (-1, or -01 past 9 pages)
    first = sorted(ARTIFACTS.glob("report-pdf-*1.png"))
    assert first and first[0].stat().st_size > 10_000


def test_pdf_first_page_holds_the_verdict_actions_and_the_weeks_figures(
        db: Path, tmp_path: Path) -> None:
    out = tmp_path / "w.pdf"
    assert cli(db, out, "--week", fx.WEEK) == 0
    page1 = subprocess.run(["pdftotext", "-f", "1", "-l", "1", "-layout", str(out), "-"],
                           capture_output=True, text=True, check=True).stdout
    con = connect_read_only(db)
    try:
        from queries.verdict import verdict
        v = verdict(con, "2026-03-15", "UTC", POLICY, first_month="2026-03")
    finally:
        con.close()
    assert " ".join(v.sentence().split()) in " ".join(page1.split())
    for heading in ("Top movers", "Action needed", "The week's figures"):
        assert heading in page1
    assert "Appendix: user-level profit table" not in page1


@pytest.mark.slow
def test_html_screenshot(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "w.html"
    assert cli(db, out, "--week", fx.WEEK) == 0
    ARTIFACTS.mkdir(exist_ok=True)
    png = ARTIFACTS / "report-html.png"
    png.unlink(missing_ok=True)
    subprocess.run([_chromium(), *pdf.CHROMIUM_FLAGS, f"--user-data-dir={tmp_path}/p",
                    "--hide-scrollbars", "--window-size=1280,3800", "--virtual-time-budget=5000",
                    f"--screenshot={png}", out.as_uri()], capture_output=True, timeout=120,
                   check=False)
    assert png.exists() and png.stat().st_size > 50_000


def test_demo_business_xlsx_and_html_equal_the_kpi_layer(demo_db: Path, tmp_path: Path) -> None:
    week = "2026-W11"
    xlsx, page = tmp_path / "demo.xlsx", tmp_path / "demo.html"
    assert cli(demo_db, xlsx, "--week", week) == 0
    assert cli(demo_db, page, "--week", week) == 0
    now, _before, users = expected(demo_db, week)
    assert now["active_users"] > 100  # a real week of the demo, not an empty one
    summary = {row[0].value: row[1].value for row in openpyxl.load_workbook(xlsx)["summary"]
               .iter_rows() if row[0].value}
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    for key, label, kind in model.kpi_rows():
        if kind == cells.MONEY:
            assert round(Decimal(str(summary[label])), 6) == now[key], key
        cell = soup.select_one(f'#kpis tr[data-key="{key}"]').find_all("td")[1].get_text()
        assert cell == cells.show(kind, now[key]), key
    rows = openpyxl.load_workbook(xlsx)["users"].max_row - 1
    assert rows == len(users)
    total = sum(Decimal(str(r[4])) for r in openpyxl.load_workbook(xlsx)["users"]
                .iter_rows(min_row=2, values_only=True))
    assert total.quantize(Decimal("0.000001")) == now["cost_usd"]


def test_report_weekly_still_offers_the_names_it_held_before_the_split() -> None:
    from report import command, html
    from report import weekly as facade

    assert facade.build_weekly is model.build_weekly and facade.main is command.main
    assert facade.to_html is html.to_html and facade.render is files.render
    assert facade.USER_COLUMNS is columns.USER_COLUMNS and facade.MONEY == cells.MONEY
