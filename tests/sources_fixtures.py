"""Real endpoints for the source loaders' tests: moto's server, PostgreSQL, data as written.

Everything listens on 127.0.0.1 on a free port and is stopped by the fixture that
started it. The items are the original chatbot's, quirks included (see
../shared/spec/data-contract.md).
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import duckdb
import pytest
from boto3.dynamodb.types import TypeSerializer
from botocore.awsrequest import AWSResponse

REGION = "us-east-1"
AWS_ENV = {"AWS_ACCESS_KEY_ID": "testing-key-id", "AWS_SECRET_ACCESS_KEY": "testing-secret",
           "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------- moto


@contextlib.contextmanager
def moto_server() -> Iterator[str]:
    """moto's server on 127.0.0.1 (never every interface), yielding its endpoint URL."""
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            with contextlib.suppress(OSError):
                urllib.request.urlopen(f"{url}/moto-api/", timeout=1).close()
                break
            time.sleep(0.05)
        yield url
    finally:
        server.stop()


def reset_moto(url: str) -> None:
    """Forget every table and bucket, so each test starts from nothing."""
    req = urllib.request.Request(f"{url}/moto-api/reset", method="POST")
    urllib.request.urlopen(req, timeout=10).close()


@pytest.fixture(scope="module")
def moto_url(monkeypatch_module: pytest.MonkeyPatch) -> Iterator[str]:
    for key, value in AWS_ENV.items():
        monkeypatch_module.setenv(key, value)
    monkeypatch_module.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch_module.setenv("PROFIT_SECRETS", "/nonexistent/profit-test-secrets.toml")
    monkeypatch_module.delenv("AWS_PROFILE", raising=False)
    with moto_server() as url:
        yield url


@pytest.fixture(scope="module")
def monkeypatch_module() -> Iterator[pytest.MonkeyPatch]:
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


@pytest.fixture
def moto(moto_url: str) -> str:
    """The module's moto server, emptied for this test."""
    reset_moto(moto_url)
    return moto_url


def ddb_client(endpoint: str, **config: Any) -> Any:
    from botocore.config import Config

    return boto3.client("dynamodb", endpoint_url=endpoint, region_name=REGION,
                        aws_access_key_id=AWS_ENV["AWS_ACCESS_KEY_ID"],
                        aws_secret_access_key=AWS_ENV["AWS_SECRET_ACCESS_KEY"],
                        config=Config(**config) if config else None)


def create_original_tables(client: Any, env: str | None = "dev", *,
                           prefix: str = "ai-nutritionist",
                           suffixed: tuple[str, ...] = ("costs", "revenue", "tokens")
                           ) -> dict[str, str]:
    """The three tables as the chatbot's infrastructure defines them; returns their names.

    Tables named in `suffixed` get the `-{env}` suffix, the others the bare name the
    service's own code used.
    """
    names = {}
    for logical in ("costs", "revenue", "tokens"):
        name = f"{prefix}-user-{logical}" + (f"-{env}" if env and logical in suffixed else "")
        names[logical] = name
        if logical == "tokens":
            client.create_table(
                TableName=name, BillingMode="PAY_PER_REQUEST",
                KeySchema=[{"AttributeName": "user_phone", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "user_phone", "AttributeType": "S"}])
            continue
        client.create_table(
            TableName=name, BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "user_phone", "KeyType": "HASH"},
                       {"AttributeName": "timestamp", "KeyType": "RANGE"}],
            AttributeDefinitions=[{"AttributeName": "user_phone", "AttributeType": "S"},
                                  {"AttributeName": "timestamp", "AttributeType": "S"},
                                  {"AttributeName": "month", "AttributeType": "S"}],
            GlobalSecondaryIndexes=[{
                "IndexName": "MonthIndex",
                "KeySchema": [{"AttributeName": "month", "KeyType": "HASH"},
                              {"AttributeName": "user_phone", "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "ALL"}}])
    return names


_serializer = TypeSerializer()


def typed(item: dict[str, Any]) -> dict[str, Any]:
    """A plain item (Decimal numbers) as DynamoDB JSON."""
    return {k: _serializer.serialize(v) for k, v in item.items()}


def put_items(client: Any, table: str, items: list[dict[str, Any]]) -> None:
    for i in range(0, len(items), 25):
        client.batch_write_item(RequestItems={
            table: [{"PutRequest": {"Item": typed(it)}} for it in items[i:i + 25]]})


def cost_item(phone: str, ts: str, event_type: str, cost: str, **extra: Any) -> dict[str, Any]:
    return {"user_phone": phone, "timestamp": ts, "event_type": event_type,
            "cost_details": extra.pop("details", {"interaction_cost": cost}),
            "actual_cost": Decimal(cost), "month": ts[:7], "ttl": 1780000000, **extra}


def original_items(extra_users: int = 0) -> dict[str, list[dict[str, Any]]]:
    """Items exactly as the service wrote them, with every quirk the contract lists.

    Hand-worked answers for the fixed part (extra_users = 0):
    - 8 cost items, 1 refused (negative cost) -> 7 cost_events;
      the 09:00:00.123456 meal_plan estimate is replaced by its completion 45 s later
      (counted = false); the rest count.
      counted sum = 0.0712 + 0.001 + 0.002 + 0.05 + 0.004 + 0.08 = 0.2082
    - 4 revenue items: 5.00 tokens, 9.99 premium, 1.25 affiliate, -5.00 other (refund).
    - 2 token items.
    `extra_users` adds 3 cost lines (estimate, completion, error) and one revenue line
    per user, in 2026-02 and 2026-03, to make more than one page.
    """
    a, b = "+15551230001", "whatsapp:+15551230002"
    costs = [
        cost_item(a, "2026-03-01T09:00:00.123456", "meal_plan", "0.08"),
        cost_item(a, "2026-03-01T09:00:45", "meal_plan_completed", "0.0712"),
        cost_item(a, "2026-03-01T10:00:00", "error_handling", "0.001"),
        cost_item(b, "2026-03-02T08:00:00", "simple_message", "0.002"),
        cost_item(b, "2026-03-02T08:05:00.5", "meal_plan_generation", "0.05",
                  details={"ai_tokens": 1500, "api_calls": 3}),
        cost_item(b, "2026-02-28T23:59:30", "grocery_list", "0.004"),
        cost_item(a, "2026-03-03T12:00:00", "nutrition_analysis", "0.08"),
        cost_item(b, "2026-03-04T12:00:00", "recipe_search", "-0.01"),
    ]
    revenue = [
        {"user_phone": a, "timestamp": "2026-03-02T08:00:00", "revenue_type": "token_purchase",
         "revenue_amount": Decimal("5.00"),
         "details": {"tokens_purchased": 120, "payment_method": "stripe", "bonus_applied": True},
         "month": "2026-03", "ttl": 1800000000},
        {"user_phone": b, "timestamp": "2026-03-05T10:30:00.250000",
         "revenue_type": "subscription", "revenue_amount": Decimal("9.99"),
         "details": {"plan": "premium_monthly"}, "month": "2026-03", "ttl": 1800000000},
        {"user_phone": b, "timestamp": "2026-03-06T11:00:00",
         "revenue_type": "affiliate_commission", "revenue_amount": Decimal("1.25"),
         "details": {"partner": "instacart"}, "month": "2026-03", "ttl": 1800000000},
        {"user_phone": a, "timestamp": "2026-03-07T09:15:00", "revenue_type": "refund",
         "revenue_amount": Decimal("-5.00"), "details": {}, "month": "2026-03",
         "ttl": 1800000000},
    ]
    tokens = [
        {"user_phone": a, "token_balance": 95, "last_updated": "2026-03-02T09:00:00",
         "month": "2026-03"},
        {"user_phone": b, "token_balance": 0, "last_updated": "2026-03-05T10:30:00.250000",
         "month": "2026-03"},
    ]
    for i in range(extra_users):
        phone = f"+1666{i:07d}" if i % 2 else f"whatsapp:+1666{i:07d}"
        day = 1 + i % 28
        month = "2026-02" if i % 3 == 0 else "2026-03"
        base = f"{month}-{day:02d}T{8 + i % 12:02d}:{i % 60:02d}"
        costs += [
            cost_item(phone, f"{base}:00.{i:06d}" if i % 4 else f"{base}:00", "meal_plan",
                      "0.08"),
            cost_item(phone, f"{base}:30", "meal_plan_completed", f"0.0{i % 9 + 1}25"),
            cost_item(phone, f"{base}:59", "error_handling", "0.001"),
        ]
        revenue.append({"user_phone": phone, "timestamp": f"{base}:10",
                        "revenue_type": "token_purchase",
                        "revenue_amount": Decimal(f"{i % 7 + 1}.99"),
                        "details": {"tokens_purchased": 100 + i}, "month": month,
                        "ttl": 1800000000})
    return {"costs": costs, "revenue": revenue, "tokens": tokens}


def write_dynamodb_json(items: dict[str, list[dict]], folder: Path) -> dict[str, list[str]]:
    """The same items as DynamoDB-JSON export files (`{"Item": {...}}` per line, gzipped)."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for logical, table in (("costs", "cost_events"), ("revenue", "revenue_events"),
                           ("tokens", "token_balances")):
        path = folder / f"{logical}.json.gz"
        with gzip.open(path, "wt") as fh:
            for item in items[logical]:
                fh.write(json.dumps({"Item": typed(item)}) + "\n")
        files[table] = [str(path)]
    return files


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


def inject_throttling(client: Any, operation: str, times: int) -> dict[str, int]:
    """Answer the first `times` calls of `operation` with a 400 ThrottlingException.

    Returns a counter of calls seen and throttled, for the test to check.
    """
    seen = {"calls": 0, "throttled": 0}
    body = json.dumps({"__type": "com.amazonaws.dynamodb.v20120810#ThrottlingException",
                       "message": "Rate of requests exceeds the allowed throughput."}).encode()

    def handler(request: Any, **_: Any) -> AWSResponse | None:
        seen["calls"] += 1
        if seen["throttled"] < times:
            seen["throttled"] += 1
            return AWSResponse(request.url, 400,
                               {"Content-Type": "application/x-amz-json-1.0",
                                "x-amzn-RequestId": f"throttle-{seen['throttled']}"},
                               _Raw(body))
        return None

    client.meta.events.register(f"before-send.dynamodb.{operation}", handler)
    return seen


# --------------------------------------------------------------------------- answers


def answers(db: Path) -> dict[str, Any]:
    """What a query would see: counts, exact sums, and every row but source/load_id."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        out: dict[str, Any] = {}
        out["costs"] = con.execute(
            "SELECT count(*), sum(cost_usd), sum(cost_usd) FILTER (counted), "
            "count(*) FILTER (counted) FROM cost_events").fetchone()
        out["revenue"] = con.execute(
            "SELECT stream, count(*), sum(amount_usd), sum(tokens) FROM revenue_events "
            "GROUP BY ALL ORDER BY ALL").fetchall()
        out["tokens"] = con.execute(
            "SELECT count(*), sum(balance) FROM token_balances").fetchone()
        out["cost_rows"] = con.execute(
            "SELECT event_id, user_id, ts, action, event_type, cost_usd, counted, category, "
            "details::VARCHAR FROM cost_events ORDER BY event_id").fetchall()
        out["revenue_rows"] = con.execute(
            "SELECT event_id, user_id, ts, stream, amount_usd, tokens, partner "
            "FROM revenue_events ORDER BY event_id").fetchall()
        out["token_rows"] = con.execute(
            "SELECT user_id, as_of, balance FROM token_balances ORDER BY ALL").fetchall()
        out["affiliate_rows"] = con.execute(
            "SELECT event_id, user_id, ts, partner, kind FROM affiliate_events "
            "ORDER BY ALL").fetchall()
        out["rejected"] = con.execute(
            "SELECT table_name, reason FROM rejected_rows ORDER BY ALL").fetchall()
        return out
    finally:
        con.close()


# --------------------------------------------------------------------------- PostgreSQL


def _pg_bin(name: str) -> str:
    for candidate in (shutil.which(name), f"/usr/local/bin/{name}",
                      *sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True)):
        if candidate and Path(candidate).exists():
            return str(candidate)
    pytest.fail(f"PostgreSQL binary {name!r} not found (install postgresql, or put initdb "
                "and pg_ctl on PATH)")


def _as_postgres(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@contextlib.contextmanager
def postgres_server(password: str = "s3cret-pw!") -> Iterator[dict[str, Any]]:
    """A throwaway PostgreSQL in a temp dir, on a free port, TCP with a password.

    Yields host, port, user, password, database and a SQLAlchemy URL.
    """
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    base = Path(tempfile.mkdtemp(prefix="pgtest-"))
    if os.geteuid() == 0:
        pg = pwd.getpwnam("postgres")
        os.chown(base, pg.pw_uid, pg.pw_gid)
    data, sock, log, pwfile = base / "data", base / "sock", base / "server.log", base / "pw"
    pwfile.write_text(password + "\n")
    sock.mkdir()
    if os.geteuid() == 0:
        for p in (pwfile, sock):
            os.chown(p, pg.pw_uid, pg.pw_gid)
    port = free_port()
    try:
        subprocess.run(_as_postgres([initdb, "-D", str(data), "-U", "postgres", "-E", "UTF8",
                                     "--pwfile", str(pwfile), "--auth-host=scram-sha-256",
                                     "--auth-local=trust", "--no-sync"]),
                       check=True, capture_output=True, text=True)
        opts = (f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off")
        subprocess.run(_as_postgres([pg_ctl, "-D", str(data), "-l", str(log), "-o", opts,
                                     "-w", "-t", "60", "start"]),
                       check=True, capture_output=True, text=True)
    except subprocess.CalledProcessError as exc:
        text = log.read_text() if log.exists() else ""
        shutil.rmtree(base, ignore_errors=True)
        pytest.fail(f"PostgreSQL did not start: {exc.stderr}\n{text}")
    info = {"host": "127.0.0.1", "port": port, "user": "postgres", "password": password,
            "database": "postgres"}
    from sqlalchemy import URL

    info["url"] = URL.create("postgresql+psycopg2", username="postgres", password=password,
                             host="127.0.0.1", port=port, database="postgres")
    try:
        yield info
    finally:
        subprocess.run(_as_postgres([pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"]),
                       capture_output=True, text=True)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def postgres() -> Iterator[dict[str, Any]]:
    with postgres_server() as info:
        yield info


# --------------------------------------------------------------------------- contract rows

CONTRACT_DDL = {
    "cost_events": "event_id VARCHAR(200) PRIMARY KEY, user_id VARCHAR(40), ts TIMESTAMP, "
                   "action VARCHAR(40), event_type VARCHAR(60), cost_usd NUMERIC(18, 6), "
                   "counted BOOLEAN, category VARCHAR(20), details {json}",
    "revenue_events": "event_id VARCHAR(200) PRIMARY KEY, user_id VARCHAR(40), ts TIMESTAMP, "
                      "stream VARCHAR(20), amount_usd NUMERIC(18, 6), tokens INTEGER, "
                      "partner VARCHAR(40), details {json}",
    "token_balances": "user_id VARCHAR(40), as_of TIMESTAMP, balance INTEGER",
    "affiliate_events": "event_id VARCHAR(200) PRIMARY KEY, user_id VARCHAR(40), "
                        "ts TIMESTAMP, partner VARCHAR(40), kind VARCHAR(20)",
}


def contract_rows(users: int, *, month: str = "2026-03", tag: str = "") -> dict[str, list[dict]]:
    """Contract-shaped rows as another team's database would hold them (text values).

    Per user: an estimate and its completion 30 s later (counted left empty, so the
    loading path pairs them), an error line, a revenue line, a balance and a click.
    """
    rows: dict[str, list[dict]] = {t: [] for t in CONTRACT_DDL}
    for i in range(users):
        phone = f"whatsapp:+1777{i:07d}" if i % 5 == 0 else f"+1777{i:07d}"
        day, hour, minute = 1 + i % 27, i % 24, i % 60
        base = f"{month}-{day:02d} {hour:02d}:{minute:02d}"
        micro = f".{(i * 7919) % 1_000_000:06d}" if i % 3 else ""
        rows["cost_events"] += [
            {"event_id": f"c{tag}{i}-e", "user_id": phone, "ts": f"{base}:00{micro}",
             "action": None, "event_type": "meal_plan", "cost_usd": "0.080000",
             "counted": None, "category": "ai", "details": json.dumps({"estimate": True})},
            {"event_id": f"c{tag}{i}-d", "user_id": phone, "ts": f"{base}:30",
             "action": None, "event_type": "meal_plan_completed",
             "cost_usd": f"0.0{i % 9 + 1}{i % 10}125", "counted": None, "category": "ai",
             "details": json.dumps({"ai_tokens": 1000 + i})},
            {"event_id": f"c{tag}{i}-x", "user_id": phone, "ts": f"{base}:59.5",
             "action": "error_handling", "event_type": "error_handling", "cost_usd": "0.001000",
             "counted": "true", "category": "other", "details": None},
        ]
        rows["revenue_events"].append(
            {"event_id": f"r{tag}{i}", "user_id": phone, "ts": f"{base}:10",
             "stream": ("tokens", "premium", "affiliate")[i % 3],
             "amount_usd": f"{i % 7 + 1}.99" if i % 11 else "-4.990000",
             "tokens": str(100 + i) if i % 3 == 0 else None,
             "partner": "instacart" if i % 3 == 2 else None, "details": json.dumps({"n": i})})
        rows["token_balances"].append({"user_id": phone, "as_of": f"{base}:40",
                                       "balance": str(i % 250)})
        rows["affiliate_events"].append({"event_id": f"a{tag}{i}", "user_id": phone,
                                         "ts": f"{base}:45", "partner": "instacart",
                                         "kind": ("shown", "click", "conversion")[i % 3]})
    return rows


def write_csv(rows: dict[str, list[dict]], folder: Path) -> dict[str, list[str]]:
    """The rows as contract CSV files, for the file loader's reference answers."""
    import csv

    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for table, table_rows in rows.items():
        path = folder / f"{table}.csv"
        with path.open("w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(table_rows[0]))
            writer.writeheader()
            writer.writerows([{k: ("" if v is None else v) for k, v in r.items()}
                              for r in table_rows])
        out[table] = [str(path)]
    return out


def fill_sql(url: Any, rows: dict[str, list[dict]], *, create: bool = True) -> None:
    """Create the contract tables in a SQL database (typed columns) and insert the rows."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    json_type = "JSON" if engine.dialect.name == "postgresql" else "TEXT"
    with engine.begin() as conn:
        for table, table_rows in rows.items():
            if create:
                conn.execute(sa.text(f"CREATE TABLE {table} "
                                     f"({CONTRACT_DDL[table].format(json=json_type)})"))
            if table_rows:
                cols = list(table_rows[0])
                conn.execute(sa.text(f"INSERT INTO {table} ({', '.join(cols)}) VALUES "
                                     f"({', '.join(':' + c for c in cols)})"),
                             [_typed_row(r, engine.dialect.name) for r in table_rows])
    engine.dispose()


def _typed_row(row: dict, dialect: str) -> dict:
    out = {}
    for k, v in row.items():
        if v is None:
            out[k] = None
        elif k in ("cost_usd", "amount_usd") and dialect == "postgresql":
            out[k] = Decimal(v)
        elif k in ("tokens", "balance"):
            out[k] = int(v)
        elif k == "counted":
            out[k] = v == "true"
        else:
            out[k] = v
    return out


# --------------------------------------------------------------------------- S3


def s3_client(endpoint: str) -> Any:
    return boto3.client("s3", endpoint_url=endpoint, region_name=REGION,
                        aws_access_key_id=AWS_ENV["AWS_ACCESS_KEY_ID"],
                        aws_secret_access_key=AWS_ENV["AWS_SECRET_ACCESS_KEY"])


def write_dynamodb_export(client: Any, bucket: str, prefix: str,
                          items: dict[str, list[dict]], env: str = "prod",
                          files_per_table: int = 2) -> None:
    """The layout DynamoDB's export to S3 writes, one export per table.

    `<prefix>AWSDynamoDB/<export id>/manifest-summary.json`, `manifest-files.json`
    (one JSON line per data file) and `data/<name>.json.gz` of `{"Item": ...}` lines.
    """
    import hashlib

    for n, (logical, table_items) in enumerate(sorted(items.items())):
        export = f"{prefix}AWSDynamoDB/01700000000000-{n:08x}"
        lines = []
        for part in range(files_per_table):
            chunk = table_items[part::files_per_table]
            body = gzip.compress("".join(json.dumps({"Item": typed(it)}) + "\n"
                                         for it in chunk).encode())
            key = f"{export}/data/{hashlib.md5(body).hexdigest()[:26]}.json.gz"  # noqa: S324
            client.put_object(Bucket=bucket, Key=key, Body=body)
            lines.append(json.dumps({"itemCount": len(chunk), "md5Checksum": "x",
                                     "etag": "y", "dataFileS3Key": key}))
        client.put_object(Bucket=bucket, Key=f"{export}/manifest-files.json",
                          Body="\n".join(lines).encode())
        summary = {"version": "2020-06-30", "exportArn": f"arn:aws:dynamodb:{REGION}:"
                   f"123456789012:table/x/export/{n}",
                   "tableArn": f"arn:aws:dynamodb:{REGION}:123456789012:table/"
                               f"ai-nutritionist-user-{logical}-{env}",
                   "exportFormat": "DYNAMODB_JSON", "exportType": "FULL_EXPORT",
                   "itemCount": len(table_items), "outputFormat": "DYNAMODB_JSON",
                   "manifestFilesS3Key": f"{export}/manifest-files.json"}
        client.put_object(Bucket=bucket, Key=f"{export}/manifest-summary.json",
                          Body=json.dumps(summary).encode())
        client.put_object(Bucket=bucket, Key=f"{export}/_started", Body=b"")


def csv_to_parquet(csv_files: dict[str, list[str]], folder: Path) -> dict[str, Path]:
    """Typed Parquet (TIMESTAMP, DECIMAL(18,6), INTEGER) of contract CSV files."""
    types = {"ts": "TIMESTAMP", "as_of": "TIMESTAMP", "cost_usd": "DECIMAL(18,6)",
             "amount_usd": "DECIMAL(18,6)", "tokens": "INTEGER", "balance": "INTEGER",
             "counted": "BOOLEAN"}
    folder.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    out = {}
    for table, (path,) in csv_files.items():
        cols = [r[0] for r in con.execute(
            "SELECT column_name FROM (DESCRIBE SELECT * FROM read_csv($p, all_varchar=true))",
            {"p": path}).fetchall()]
        select = ", ".join(f"CAST({c} AS {types[c]}) AS {c}" if c in types else c for c in cols)
        target = folder / f"{table}.parquet"
        con.execute(f"COPY (SELECT {select} FROM read_csv('{path}', all_varchar=true)) "
                    f"TO '{target}' (FORMAT parquet)")
        out[table] = target
    con.close()
    return out
