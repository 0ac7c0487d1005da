"""Spark Connect: `--spark-master sc://host:port` answers as the local engine does.

A real Spark Connect server (PySpark's own jars, `SparkConnectServer` through
spark-submit) listens on 127.0.0.1 on a free port, and the commands run against it as
whole processes, their output compared with DuckDB's on the same business. The server
is started the way a cluster's would be, so it proves what a cluster relies on:

- its Python workers do not have the project on their path (the server runs in an empty
  directory, PYTHONPATH without the project): the replay's fold reaches them only as the
  code the client ships with its session (`queries.engine.ship_project`);
- its sessions default to another timezone (America/Los_Angeles): the engine's own
  session must still run in UTC, as the local one does.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path

import pytest

from queries import engine as E
from tests.browser import free_port, stop
from tests.conftest import SPARK_GROUP

pytestmark = SPARK_GROUP
ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "enforcement" / "policies" / "seed-default.toml"
SERVER_CLASS = "org.apache.spark.sql.connect.service.SparkConnectServer"
START_TIMEOUT_S = 180  # a JVM on a busy 2-core machine


def _spark_home() -> Path:
    import pyspark

    return Path(pyspark.__file__).resolve().parent


@pytest.fixture(scope="session")
def connect_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A local Spark Connect server on 127.0.0.1 (local[2]), its `sc://` URL; stopped at the
    end. Where Java is missing this fails with what to install; it never skips."""
    try:
        java = E.java_home()
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)
    home = _spark_home()
    work = tmp_path_factory.mktemp("spark-connect")
    port = free_port()
    path = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep)
            if p and Path(p).resolve() != ROOT]
    env = {**os.environ, "JAVA_HOME": java, "SPARK_HOME": str(home),
           "PYSPARK_PYTHON": sys.executable,  # requirements.txt's packages, not the project
           "PYTHONPATH": os.pathsep.join(path), "SPARK_LOCAL_IP": "127.0.0.1"}
    conf = {"spark.connect.grpc.binding.address": "127.0.0.1",
            "spark.connect.grpc.binding.port": str(port),
            "spark.driver.bindAddress": "127.0.0.1", "spark.driver.host": "127.0.0.1",
            "spark.ui.enabled": "false", "spark.sql.shuffle.partitions": "2",
            "spark.default.parallelism": "2", "spark.sql.adaptive.enabled": "false",
            "spark.sql.session.timeZone": "America/Los_Angeles"}
    command = [str(home / "bin" / "spark-submit"), "--class", SERVER_CLASS,
               "--master", "local[2]", "--driver-memory", "1g", "--name", "profit-connect-tests"]
    for key, value in conf.items():
        command += ["--conf", f"{key}={value}"]
    log_path = work / "server.log"
    log = open(log_path, "wb")  # noqa: SIM115 - closed by stop()
    # spark-submit execs the JVM, so this process is the server itself.
    proc = subprocess.Popen(command, cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                raise RuntimeError("the Spark Connect server did not start:\n"
                                   + log_path.read_text(errors="replace")[-3000:])
            time.sleep(0.5)
        yield f"sc://127.0.0.1:{port}"
    finally:
        stop(proc, log)


def _run(*args: str, module: bool = True) -> str:
    """A command as a whole process (the CLI's own interpreter and environment)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROFIT_")}
    env["PROFIT_SECRETS"] = "/nonexistent/profit-test-secrets.toml"
    run = subprocess.run([sys.executable, *(["-m"] if module else []), *args], cwd=ROOT,
                         env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-4000:]
    return run.stdout


def test_kpis_on_spark_connect_print_what_duckdb_prints(connect_url, demo_db, demo_lake
                                                         ) -> None:
    for grain, period, tz in (("month", "2026-03", "Europe/Paris"),
                              ("day", "2026-03-14", "UTC")):
        common = ("queries", "kpis", "--grain", grain, "--period", period, "--timezone", tz)
        duck = _run(*common, "--db", str(demo_db))
        assert json.loads(duck)["active_users"] > 50  # a real business, not zeros
        assert _run(*common, "--engine", "spark", "--lake", str(demo_lake),
                    "--spark-master", connect_url) == duck


def test_replay_on_spark_connect_prints_what_duckdb_prints(connect_url, demo_db, demo_lake
                                                           ) -> None:
    common = ("enforcement", "replay", "--policy", str(SEED), "--start", "2026-02",
              "--end", "2026-03")
    duck = _run(*common, "--db", str(demo_db))
    assert '"requests"' in duck
    assert _run(*common, "--engine", "spark", "--lake", str(demo_lake),
                "--spark-master", connect_url) == duck


def test_the_engines_connect_session_runs_in_utc(connect_url, demo_lake) -> None:
    # The server's sessions default to Los Angeles; the engine's own session (Connect's
    # newSession starts from the server's defaults) is put back in UTC, and a query that
    # takes local dates (`CAST(from_utc_timestamp(...) AS DATE)`) answers as DuckDB's.
    probe = ("import sys\n"
             "from datetime import date\n"
             "import pandas as pd\n"
             "from loaders.lake import connect_lake\n"
             "from queries import kpis as K\n"
             "from queries.engine import SparkEngine, spark_session\n"
             "url, lake = sys.argv[1:]\n"
             "engine = SparkEngine(spark_session(url), lake)\n"
             "print(engine.spark.conf.get('spark.sql.session.timeZone'))\n"
             "span = (date(2026, 2, 20), date(2026, 3, 10), 'Europe/Paris')\n"
             "pd.testing.assert_frame_equal(K.daily_series(engine, *span),\n"
             "                              K.daily_series(connect_lake(lake), *span))\n"
             "print('same')\n")
    assert _run("-c", probe, connect_url, str(demo_lake), module=False).split() == ["UTC",
                                                                                  "same"]


def test_the_shipped_code_is_what_the_fold_imports() -> None:
    # Every project package the replay's worker side imports is in the zip Connect ships.
    probe = ("import sys, queries.spark_replay, enforcement.fast_replay\n"
             "root = sys.argv[1]\n"
             "files = {n: getattr(m, '__file__', None) or '' for n, m in sys.modules.items()}\n"
             "print(' '.join(sorted({n.split('.')[0] for n, f in files.items()\n"
             "    if f.startswith(root + '/') and '/site-packages/' not in f})))")
    run = subprocess.run([sys.executable, "-c", probe, str(ROOT)], cwd=ROOT,
                         capture_output=True, text=True, timeout=120, check=True)
    assert set(run.stdout.split()) <= set(E.SHIPPED_PACKAGES)
    data = E.project_zip()
    assert data == E.project_zip()  # deterministic: one artifact name per version of the code
    names = zipfile.ZipFile(BytesIO(data)).namelist()
    assert "enforcement/fast_replay.py" in names and "queries/spark_replay.py" in names
    assert not any(n.startswith("tests/") or "__pycache__" in n for n in names)
