"""A locked, read-only or unreachable database: 503 with Retry-After within a bounded time, nothing
half-written, a retry after the fault succeeds, and /health says whether the database takes a write.

Real SQLite files locked by another process (``BEGIN EXCLUSIVE``) or opened read-only, through a real
gateway on a real Anvil; PostgreSQL's lock_timeout and read-only transactions on a throw-away cluster.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from api.db import DATABASE_BUSY, DATABASE_UNAVAILABLE, database_fault, make_engine, migrate, probe_writable
from api.main import create_app
from api.settings import Settings
from chain.compiler import Artifact
from chain.node import free_port
from chain.settings import PROJECT_ROOT
from cli.local import start_local_stack
from tests.api.harness import Actor, Gateway, appoint_issuer, onboard
from tests.pg import PgCluster, pg_bin

BUSY_TIMEOUT = 1.0

LOCKER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)
conn.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.readline()
conn.execute("ROLLBACK")
conn.close()
"""


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory, artifacts: dict[str, Artifact]) -> Iterator[Gateway]:
    """A gateway whose writes wait at most BUSY_TIMEOUT for a lock."""
    base = Settings(artifacts_dir=PROJECT_ROOT / "build" / "contracts", db_busy_timeout=BUSY_TIMEOUT)
    stack = start_local_stack(tmp_path_factory.mktemp("dbfaults"), settings=base)
    gateway = Gateway(stack.url, stack.settings, stack.state, stack.anvil, stack.server, stack.thread)
    gateway.http = httpx.Client(base_url=gateway.url, timeout=60)
    yield gateway
    gateway.stop()


@pytest.fixture(scope="module")
def bank(gw: Gateway) -> Actor:
    actor = onboard(gw, "financier", "Hansa Trade Finance", "DE811234567", [], custodial=True)
    appoint_issuer(gw, actor.participant_id)
    return actor


def db_file(gw: Gateway) -> Path:
    return gw.settings.data_path / "scf.db"


@contextmanager
def locked(db: Path) -> Iterator[None]:
    """Another process holds ``BEGIN EXCLUSIVE`` on the database until the block ends."""
    proc = subprocess.Popen(
        [sys.executable, "-c", LOCKER, str(db)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
        yield
    finally:
        assert proc.stdin is not None
        proc.stdin.write("\n")
        proc.stdin.close()
        assert proc.wait(timeout=10) == 0


def balance(gw: Gateway, actor: Actor) -> int:
    resp = gw.request("GET", "/settlement/balance?currency=EUR", actor.api_key)
    assert resp.status_code == 200, resp.text
    value: int = resp.json()["settlement_balance_minor"]
    return value


def mint(gw: Gateway, actor: Actor, key: str, amount: int = 500) -> tuple[httpx.Response, float]:
    t0 = time.monotonic()
    resp = gw.request(
        "POST",
        "/settlement/mint",
        actor.api_key,
        json={"currency": "EUR", "to_participant_id": actor.participant_id, "amount": amount},
        headers={"Idempotency-Key": key},
        timeout=BUSY_TIMEOUT + 8,
    )
    return resp, time.monotonic() - t0


def idempotency_rows(db: Path, key: str) -> list[Any]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return conn.execute("SELECT state FROM idempotencyrecord WHERE key = ?", (key,)).fetchall()


def health(url: str) -> tuple[httpx.Response, float]:
    t0 = time.monotonic()
    resp = httpx.get(f"{url}/health", timeout=10)
    return resp, time.monotonic() - t0


def assert_503(resp: httpx.Response, code: str) -> None:
    assert resp.status_code == 503, resp.text
    body = resp.json()
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    assert int(resp.headers["Retry-After"]) >= 1


def test_a_write_to_a_locked_database_is_503_in_bounded_time_and_its_retry_succeeds(
    gw: Gateway, bank: Actor
) -> None:
    db = db_file(gw)
    before = balance(gw, bank)
    key = str(uuid.uuid4())
    with locked(db):
        resp, took = mint(gw, bank, key)
        assert_503(resp, DATABASE_BUSY)
        assert resp.headers["Retry-After"] == "1"
        assert resp.json()["error"]["details"] == {"reason": "locked"}
        assert BUSY_TIMEOUT * 0.8 <= took < BUSY_TIMEOUT + 2, took
        # reads go on while a writer holds the lock (WAL): nothing was minted, nothing stored
        assert balance(gw, bank) == before
        h, h_took = health(gw.url)
        assert h.status_code == 200 and h_took < gw.settings.db_health_timeout + 2, h_took
        assert h.json()["status"] == "degraded"
        assert h.json()["database"] == {
            "ok": False,
            "revision": h.json()["database"]["revision"],
            "writable": False,
            "problem": DATABASE_BUSY,
            "reason": "locked",
        }
    assert idempotency_rows(db, key) == []  # not left in_progress: the same key runs again
    resp, _ = mint(gw, bank, key)
    assert resp.status_code == 200, resp.text
    assert balance(gw, bank) == before + 500
    h, _ = health(gw.url)
    assert h.json()["status"] == "ok" and h.json()["database"]["writable"] is True


def test_onboarding_into_a_locked_database_leaves_no_participant(gw: Gateway) -> None:
    def count() -> int:
        resp = gw.request("GET", "/participants", gw.operator_key)
        assert resp.status_code == 200, resp.text
        total: int = resp.json()["total"]
        return total

    before = count()
    with locked(db_file(gw)):
        with pytest.raises(Exception, match="503"):
            onboard(gw, "supplier", "Smedja Komponent AB", "SE5569988776", [])
        assert count() == before
    onboard(gw, "supplier", "Smedja Komponent AB", "SE5569988776", [])
    assert count() == before + 1


@contextmanager
def serve(settings: Settings) -> Iterator[str]:
    """A second gateway process-in-thread on ``settings`` (sharing the first one's chain and files)."""
    app = create_app(settings)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=settings.api_port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    try:
        yield f"http://127.0.0.1:{settings.api_port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_a_read_only_database_is_503_unavailable_and_health_says_so(gw: Gateway, bank: Actor) -> None:
    """The database file opened read-only (``mode=ro``: the tests run as root, whom chmod 0400 does not
    stop): writes are 503 DATABASE_UNAVAILABLE at once, reads go on, /health is degraded."""
    ro = gw.settings.model_copy(
        update={"database_url": f"sqlite:///file:{db_file(gw)}?mode=ro&uri=true", "api_port": free_port()}
    )
    before = balance(gw, bank)
    with serve(ro) as url:
        key = str(uuid.uuid4())
        t0 = time.monotonic()
        resp = httpx.post(
            f"{url}/settlement/mint",
            json={"currency": "EUR", "to_participant_id": bank.participant_id, "amount": 700},
            headers={"Authorization": f"Bearer {bank.api_key}", "Idempotency-Key": key},
            timeout=BUSY_TIMEOUT + 8,
        )
        assert_503(resp, DATABASE_UNAVAILABLE)
        assert resp.json()["error"]["details"] == {"reason": "read-only"}
        assert time.monotonic() - t0 < BUSY_TIMEOUT + 2
        h, _ = health(url)
        assert h.status_code == 200
        assert h.json()["status"] == "degraded"
        db = h.json()["database"]
        assert (db["writable"], db["problem"], db["reason"]) == (False, DATABASE_UNAVAILABLE, "read-only")
    assert idempotency_rows(db_file(gw), key) == []
    assert balance(gw, bank) == before
    # the same request through the writable gateway runs
    resp, _ = mint(gw, bank, key, amount=700)
    assert resp.status_code == 200, resp.text
    assert balance(gw, bank) == before + 700


def test_the_busy_timeout_is_a_few_seconds_by_default(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    assert 1 <= settings.db_busy_timeout <= 10
    engine = make_engine(settings)
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == settings.db_busy_timeout * 1000
    finally:
        engine.dispose()


# ------------------------------------------------------------------------------------------ PostgreSQL


@pytest.fixture(scope="module")
def pg() -> Iterator[PgCluster]:
    if pg_bin() is None:
        pytest.skip("PostgreSQL server binaries not installed")
    cluster = PgCluster.start()
    yield cluster
    cluster.stop()


def test_postgresql_lock_timeout_and_read_only_transactions_are_faults(pg: PgCluster) -> None:
    settings = Settings(database_url=pg.url, db_busy_timeout=0.5)
    migrate(settings)
    engine = make_engine(settings)
    try:
        assert probe_writable(engine, 1.0, 0.5) is None
        with engine.connect() as holder:
            holder.execute(text("LOCK TABLE alembic_version IN ACCESS EXCLUSIVE MODE"))
            t0 = time.monotonic()
            with pytest.raises(DBAPIError) as caught, engine.connect() as conn:
                conn.execute(text("UPDATE alembic_version SET version_num = version_num"))
            assert time.monotonic() - t0 < 0.5 + 2
            fault = database_fault(caught.value)
            assert fault is not None and (fault.code, fault.reason) == (DATABASE_BUSY, "locked")
            probe = probe_writable(engine, 0.3, 0.5)
            assert probe is not None and probe.code == DATABASE_BUSY
            holder.rollback()
        with pytest.raises(DBAPIError) as caught, engine.connect() as conn:
            conn.execute(text("SET TRANSACTION READ ONLY"))
            conn.execute(text("UPDATE alembic_version SET version_num = version_num"))
        fault = database_fault(caught.value)
        assert fault is not None and (fault.code, fault.reason) == (DATABASE_UNAVAILABLE, "read-only")
    finally:
        engine.dispose()
    down = make_engine(Settings(database_url=f"postgresql+psycopg2://scf@127.0.0.1:{free_port()}/scf"))
    try:
        probe = probe_writable(down, 0.5, 0.5)
        assert probe is not None and (probe.code, probe.reason) == (DATABASE_UNAVAILABLE, "unreachable")
    finally:
        down.dispose()


def test_concurrent_writers_of_one_process_take_turns_instead_of_timing_out(tmp_path: Path) -> None:
    """Sixteen threads, ten short write transactions each, a busy timeout of 1 s: SQLite's busy handler
    alone (sleeps of up to 100 ms, however soon the lock is free) left about one in twelve waiting past
    the timeout (``DATABASE_BUSY``); taking turns on the process's lock (``api.db.WriterTurns``) none."""
    settings = Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path}/turns.db", db_busy_timeout=1.0)
    engine = make_engine(settings)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER)"))
        conn.execute(text("INSERT INTO counter VALUES (1, 0)"))
    faults: list[Any] = []

    def writer() -> None:
        for _ in range(10):
            try:
                with engine.begin() as conn:
                    conn.execute(text("UPDATE counter SET n = n + 1 WHERE id = 1"))
                    time.sleep(0.01)  # a transaction's own work, holding the write lock
            except DBAPIError as exc:
                faults.append(database_fault(exc))

    threads = [threading.Thread(target=writer) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with engine.begin() as conn:
        total = conn.execute(text("SELECT n FROM counter")).scalar()
    assert faults == [] and total == 160
