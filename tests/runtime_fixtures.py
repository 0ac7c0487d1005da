"""The runtime's tests: moto's own app served one request at a time, and a runtime on it.

moto's threaded server does not serialise concurrent transactions (issue 12 measured
lost updates), so every runtime test uses `run_simple(..., threaded=False)` in a child
process: what DynamoDB does on one item, one request at a time. Each test gets its own
table prefix, so tests never see each other's items and need no reset.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from runtime import policy_source, store
from runtime.service import ProfitRuntime
from runtime.settings import Settings
from tests.sources_fixtures import AWS_ENV, REGION, free_port, reset_moto

ROOT = Path(__file__).resolve().parent.parent
SEED_POLICY = ROOT / "enforcement" / "policies" / "seed-default.toml"
SERVER = (
    "import logging, sys\n"
    "from werkzeug.serving import run_simple\n"
    "from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app\n"
    "logging.getLogger('werkzeug').setLevel(logging.ERROR)\n"
    "run_simple('127.0.0.1', int(sys.argv[1]), DomainDispatcherApplication(create_backend_app),"
    " threaded=False)\n"
)
_prefixes = itertools.count()


@contextlib.contextmanager
def serial_moto_server() -> Iterator[str]:
    """moto's app in a child process on 127.0.0.1, serving one request at a time."""
    port = free_port()
    log = open(os.devnull, "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([sys.executable, "-c", SERVER, str(port)], stdout=log, stderr=log,
                            env={**os.environ, **AWS_ENV})
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            with contextlib.suppress(OSError):
                urllib.request.urlopen(f"{url}/moto-api/", timeout=1).close()
                break
            if proc.poll() is not None:
                raise RuntimeError("moto server exited")
            time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


@pytest.fixture(scope="module")
def serial_moto_url() -> Iterator[str]:
    mp = pytest.MonkeyPatch()
    for key, value in AWS_ENV.items():
        mp.setenv(key, value)
    for key in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "PROFIT_FAIL_MODE", "PROFIT_POLICY"):
        mp.delenv(key, raising=False)
    with serial_moto_server() as url:
        yield url
    mp.undo()


@pytest.fixture
def serial_moto(serial_moto_url: str) -> str:
    """The module's serial moto server, emptied for this test (moto copies every table on
    each transaction, so a backend left to grow slows every later test)."""
    reset_moto(serial_moto_url)
    return serial_moto_url


def unique_prefix() -> str:
    return f"t{os.getpid()}x{next(_prefixes)}"


def settings_for(url: str, prefix: str | None = None, **overrides: Any) -> Settings:
    prefix = prefix or unique_prefix()
    return Settings.from_env({}, env="dev", prefix=prefix, region=REGION, endpoint_url=url,
                             **overrides)


def make_runtime(url: str, policy: Path | str = SEED_POLICY, *, create: bool = True,
                 prefix: str | None = None, **overrides: Any) -> ProfitRuntime:
    """A runtime on fresh tables of its own (a new prefix) under `policy`."""
    rt = ProfitRuntime(settings_for(url, prefix, **overrides),
                       policy=policy_source.load(str(policy)))
    if create:
        store.create_tables(rt.client, rt.tables)
    return rt


def scan(rt: ProfitRuntime, logical: str) -> list[dict[str, Any]]:
    """Every item of one of the runtime's tables, plain (Decimal numbers)."""
    items: list[dict[str, Any]] = []
    for page in rt.client.get_paginator("scan").paginate(TableName=rt.tables[logical]):
        items.extend(store.plain(i) for i in page["Items"])
    return items


def events(rt: ProfitRuntime, logical: str) -> list[dict[str, Any]]:
    """The event items of a table (its idempotency keys left out), in sort-key order."""
    return sorted((i for i in scan(rt, logical) if i.get("record_type") != "idempotency"),
                  key=lambda i: (i["user_phone"], i["timestamp"]))


def concurrency_worker(url: str, prefix: str, policy: str, worker: int, threads: int,
                       plan: list[tuple[str, str, str, str]]) -> None:
    """One process of the concurrency test: `threads` threads, each sending every request
    of `plan` (user, id pattern, action, cost) with its own ids ("{w}-{t}" filled in, so
    an id without the pattern is the same request sent by everyone). Prints a JSON line
    per request: the decision as recorded."""
    import json
    from concurrent.futures import ThreadPoolExecutor

    os.environ.update(AWS_ENV)
    rt = ProfitRuntime(settings_for(url, prefix), policy=policy_source.load(policy))

    def run(t: int) -> list[dict[str, Any]]:
        out = []
        for user, pattern, action, cost in plan:
            rid = pattern.format(w=worker, t=t)
            if action == "pay":
                res = rt.record_payment(user, rid, cost, "tokens", None,
                                        "2026-03-10T12:00:00Z")
                out.append({"user": user, "id": rid, "tokens": res.tokens_credited,
                            "duplicate": res.duplicate})
                continue
            res = rt.decide_request(user, rid, action, cost, "2026-03-10T12:00:00Z")
            out.append({"user": user, "id": rid, **res.as_json(), "duplicate": res.duplicate})
        return out

    with ThreadPoolExecutor(threads) as pool:
        for rows in pool.map(run, range(threads)):
            for r in rows:
                print(json.dumps(r))
