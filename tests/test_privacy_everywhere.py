"""Issue 16's privacy test: no full phone number anywhere a person can read.

Refused rows carrying phones in every spelling (in the user, the reason and the raw
record), loaded users, and a failed load whose error quotes a phone, then: every page
of the app in a real browser (its HTML and every websocket frame the server sent, where
st.dataframe's cells travel as Arrow), the weekly report in its four formats, and the
logs (the app server's and the loaders' output). Each phone is looked for by its last
ten digits after separators are dropped, so `+1 (555) 765-4323` counts as found in
`15557654323` and in `1.555.765.4323` alike.
"""

from __future__ import annotations

import gzip
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import duckdb
import pytest

from tests.browser import chromium_page, streamlit_server, wait_for_app

ROOT = Path(__file__).resolve().parent.parent
PAGES = ["", "weekly", "monthly", "users", "what-if", "data", "targets", "glossary"]
# Loaded users, in the spellings a source sends.
LOADED = ("+15557654399", "whatsapp:+1 (555) 765-4398", "15557654397")
# Refused rows: the phone in the user (bad), in the reason, and in the raw record.
REFUSED = ("+15557654321 ext. 5", "15557654322x", "whatsapp:1555.765.4323 (home)",
           "tel:+1-555-765-4324 or so", "+44 20 7946 0958 #2", "(555) 765-4325 call")
SEPARATORS = re.compile(r"[\s().\-/\\]|%20|\\u00a0")


def _digits(phone: str) -> str:
    return "".join(c for c in phone if c.isdigit())[-10:]


def _run(*args: str, env: dict[str, str], check: bool = True) -> str:
    proc = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc.stdout + proc.stderr


def _leaks(text: str, phones: list[str]) -> list[str]:
    flat = SEPARATORS.sub("", text)
    return [p for p in phones if p in flat]


@pytest.mark.browser
def test_no_full_phone_on_any_page_frame_export_or_log(tmp_path: Path) -> None:
    import os

    db = tmp_path / "p.duckdb"
    env = {**os.environ, "PROFIT_DB": str(db), "PROFIT_SECRETS": str(tmp_path / "none.toml"),
           "PROFIT_AUDIT_LOG": str(tmp_path / "audit.log")}
    logs = [_run("-m", "loaders", "demo", "--db", str(db), "--users", "40", "--months", "1",
                 "--end", "2026-03", "--seed", "5", env=env)]
    lines = ["event_id,user_id,ts,action,cost_usd,counted"]
    lines += [f"ok{i},{p},2026-03-0{i + 2}T09:00:00,meal_plan,0.08,true"
              for i, p in enumerate(LOADED)]
    lines += [f"bad{i},{p},2026-03-02T09:00:00,meal_plan,0.08,true" for i, p in enumerate(REFUSED)]
    lines += [f"dup,{LOADED[0]},2026-03-02T10:00:00,meal_plan,0.08,true",
              f"dup,{LOADED[0]},2026-03-02T10:00:01,meal_plan,0.08,true",
              f"neg,{REFUSED[1]},2026-03-02T10:00:00,meal_plan,-1,true",
              f"ts,{LOADED[1]},infinity,meal_plan,0.08,true"]
    planted = tmp_path / "planted.csv"
    planted.write_text("\n".join(lines) + "\n")
    logs.append(_run("-m", "loaders", "files", "--db", str(db), "--costs", str(planted),
                     env=env))
    # A failed load whose error names a file called after a phone.
    cut = tmp_path / "from-15557654326.csv.gz"
    cut.write_bytes(gzip.compress(("\n".join(lines) * 50).encode())[:300])
    logs.append(_run("-m", "loaders", "files", "--db", str(db), "--costs", str(cut), env=env,
                     check=False))
    con = duckdb.connect(str(db), read_only=True)
    users = [r[0] for r in con.execute("SELECT DISTINCT user_id FROM cost_events").fetchall()]
    refused = con.execute("SELECT count(*) FROM rejected_rows").fetchone()[0]
    failed = con.execute("SELECT error FROM load_log WHERE status = 'failed'").fetchall()
    con.close()
    phones = sorted({_digits(p) for p in [*users, *LOADED, *REFUSED, "15557654326"]})
    assert {"5557654399", "5557654398", "5557654397"} <= set(phones)
    assert refused == len(REFUSED) + 3 and "15557654326" in failed[0][0]  # stored, not shown

    exports = {}
    for ext in ("html", "csv", "xlsx", "pdf"):
        out = tmp_path / f"week.{ext}"
        logs.append(_run("-m", "dashboard.report", "weekly", "--db", str(db), "--week",
                         "2026-W10", "--out", str(out), env=env))
        if ext == "xlsx":
            with zipfile.ZipFile(out) as z:
                exports[ext] = " ".join(z.read(n).decode("utf-8", "replace")
                                        for n in z.namelist())
        elif ext == "pdf":
            exports[ext] = subprocess.run(["pdftotext", str(out), "-"], capture_output=True,
                                          text=True, check=True).stdout
        else:
            exports[ext] = out.read_text()
    assert "…4399" in exports["csv"]  # the planted user is in the report, masked

    seen: dict[str, str] = {}
    frames: list[str] = []
    with streamlit_server({k: env[k] for k in ("PROFIT_DB", "PROFIT_SECRETS",
                                               "PROFIT_AUDIT_LOG")}, tmp_path) as url, \
            chromium_page() as page:
        page.on("websocket", lambda ws: ws.on(
            "framereceived", lambda payload: frames.append(
                payload.decode("utf-8", "replace") if isinstance(payload, bytes)
                else str(payload))))
        for name in PAGES:
            page.goto(f"{url}/{name}?day=2026-03-02&week=2026-W10&month=2026-03")
            wait_for_app(page)
            if name == "users":  # find the planted user by its last digits
                box = page.locator('[data-testid="stMain"] [data-testid="stTextInput"] input')
                box.first.fill("4399")
                box.first.press("Enter")
                wait_for_app(page)
            errors = page.locator('[data-testid="stException"]')
            assert not errors.count(), (name, errors.first.inner_text()[:2000])
            seen[name or "daily"] = page.content() + page.inner_text("body")
    logs += [p.read_text() for p in tmp_path.glob("streamlit-*.log")]
    if (tmp_path / "audit.log").exists():
        logs.append((tmp_path / "audit.log").read_text())

    assert "…4399" in seen["users"] and "…4321" in "".join(frames)  # masked ones are there
    assert len(frames) > 20
    found = {f"page {n}": _leaks(t, phones) for n, t in seen.items()}
    found["websocket frames"] = _leaks("\n".join(frames), phones)
    found |= {f"export .{k}": _leaks(t, phones) for k, t in exports.items()}
    found["logs"] = _leaks("\n".join(logs), phones)
    assert {k: v for k, v in found.items() if v} == {}
