"""Several gateway processes on one database: one indexer leader at a time, taken over when it dies.

The leadership alone (``api.leader``) on SQLite and PostgreSQL, with a real process killed; then two
gateway processes on one PostgreSQL and one Anvil under 8 concurrent clients submitting overlapping
invoices: one receivable per invoice, no nonce gap, the read model equal to the chain, and the indexer's
leader killed (SIGKILL) and taken over by the other process, which keeps indexing.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, create_engine, text

from api.db import make_engine, migrate
from api.leader import Leadership, current_leader, process_id
from api.services.bootstrap import bootstrap
from api.settings import Settings
from api.state import AppState
from chain.client import connect
from chain.deploy import ensure_deployed
from chain.node import AnvilNode, rpc
from chain.settings import PROJECT_ROOT
from cli.gateway_process import GatewayProcess
from tests.api.harness import Actor, bundle_body, distinct_trade, trade_parties
from tests.conftest import make_settings
from tests.pg import PgCluster


@pytest.fixture(scope="module")
def pg() -> Iterator[PgCluster]:
    cluster = PgCluster.start()
    yield cluster
    cluster.stop()


def _holder(url: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.api.leader_worker", url],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "leading"
    return proc


def _eventually(check: Callable[[], bool], timeout: float = 5) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_one_leader_at_a_time_and_the_next_takes_over_when_it_dies(
    backend: str, pg: PgCluster, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'scf.db'}" if backend == "sqlite" else pg.url
    engine = create_engine(url)
    a, b = Leadership(engine), Leadership(engine)
    try:
        assert a.try_lead() and not b.try_lead()
        assert b.held_elsewhere and not a.held_elsewhere
        assert a.try_lead() and not b.try_lead()  # kept by its holder, turn after turn
        assert current_leader(engine) == a.leader() == b.leader() == process_id()
        a.release()  # the server ends the closed session a moment later: its lock goes with it
        assert _eventually(lambda: current_leader(engine) is None)
        assert _eventually(b.try_lead) and not a.try_lead()
        b.release()

        proc = _holder(url)  # another process leads
        try:
            assert not a.try_lead() and a.held_elsewhere
            assert current_leader(engine) == a.leader() == f"{process_id().rpartition(':')[0]}:{proc.pid}"
            proc.send_signal(signal.SIGKILL)  # no goodbye: the server (or the kernel) drops its lock
            proc.wait()
            assert _eventually(a.try_lead), "the dead leader's lock was not released"
            assert current_leader(engine) == process_id()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    finally:
        a.release()
        b.release()
        engine.dispose()


# --------------------------------------------------------------------- two gateway processes, one database


class Http:
    """Just what ``cli.sample.onboard`` and ``grant_credit`` use of a gateway: its operator and requests."""

    def __init__(self, url: str, operator_key: str) -> None:
        self.http = httpx.Client(base_url=url, timeout=120)
        self.operator_key = operator_key
        self.credit_bank: Actor | None = None

    def request(self, method: str, path: str, key: str | None, **kw: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {key}", **kw.pop("headers", {})}
        return self.http.request(method, path, headers=headers, **kw)


@dataclass
class Cluster:
    settings: Settings
    anvil: AnvilNode
    engine: Engine
    gateways: list[GatewayProcess]


@pytest.fixture
def cluster(pg: PgCluster, tmp_path: Path) -> Iterator[Cluster]:
    """Anvil, the contracts, a migrated PostgreSQL, and two gateway processes on it (background indexers)."""
    anvil = AnvilNode(state_file=None, log_file=tmp_path / "anvil.log")
    anvil.start()
    settings = make_settings(tmp_path, anvil_port=anvil.port, database_url=pg.url)
    gateways = [GatewayProcess(settings, tmp_path / f"gateway-{n}.log") for n in range(2)]
    engine = make_engine(settings)
    try:
        ensure_deployed(settings)
        migrate(settings)
        bootstrap(settings, AppState(settings=settings, engine=engine))
        for gw in gateways:
            gw.start()
        yield Cluster(settings, anvil, engine, gateways)
    finally:
        for gw in gateways:
            gw.stop()
        engine.dispose()
        anvil.stop()


def _indexer(url: str) -> dict[str, Any]:
    body = httpx.get(f"{url}/health", timeout=30).json()
    return dict(body["indexer"])


def _leader_of(c: Cluster, timeout: float = 15) -> tuple[GatewayProcess, GatewayProcess]:
    """(leader, follower) once one of the two leads, as both of them see it."""
    host = process_id().rpartition(":")[0]
    by_id = {f"{host}:{gw.process.pid}": gw for gw in c.gateways if gw.process is not None}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        seen = {_indexer(gw.url)["leader"] for gw in c.gateways}
        if len(seen) == 1 and (leader := seen.pop()) in by_id:
            lead = by_id[leader]
            return lead, next(gw for gw in c.gateways if gw is not lead)
        time.sleep(0.1)
    raise AssertionError(f"no single leader: {[_indexer(gw.url) for gw in c.gateways]}")


def test_two_gateway_processes_on_postgres_under_overlapping_submissions(cluster: Cluster) -> None:
    c = cluster
    t_start = time.monotonic()
    first, second = (Http(gw.url, c.settings.effective_operator_api_key) for gw in c.gateways)
    core, supplier = trade_parties(first, custodial=True)  # type: ignore[arg-type]
    leader, follower = _leader_of(c)

    # 8 distinct invoices, and 4 invoices each sent by 4 clients with keys of their own
    bodies = {f"W-D{n}": bundle_body(distinct_trade(f"W-D{n}"), _signers(core, supplier)) for n in range(8)}
    bodies |= {f"W-O{n}": bundle_body(distinct_trade(f"W-O{n}"), _signers(core, supplier)) for n in range(4)}
    jobs = [(tag, 0) for tag in bodies if tag.startswith("W-D")]
    jobs += [(tag, copy) for tag in bodies if tag.startswith("W-O") for copy in range(4)]
    clients = [first, second]
    leaders_seen: set[str | None] = set()
    done = threading.Event()

    def watch() -> None:  # who leads, as both processes answer, all along the burst
        while not done.is_set():
            for gw in c.gateways:
                leaders_seen.add(_indexer(gw.url)["leader"])
            time.sleep(0.2)

    def submit(n: int, job: tuple[str, int]) -> tuple[str, int, dict[str, Any]]:
        tag, copy = job
        r = clients[n % 2].request(
            "POST",
            "/bundles",
            supplier.api_key,
            json=bodies[tag],
            headers={"Idempotency-Key": f"{tag}-{copy}-{uuid.uuid4().hex[:6]}"},
        )
        assert r.status_code < 500, r.text
        return tag, r.status_code, r.json()

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    t_burst = time.monotonic()
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(submit, range(len(jobs)), jobs))
    burst = time.monotonic() - t_burst
    done.set()
    watcher.join()
    assert leaders_seen == {_indexer(leader.url)["this_process"]}, leaders_seen  # one, the same, throughout

    # exactly one receivable per invoice; the other copies refused as duplicates
    w3 = connect(c.anvil.url)
    gateway_chain = AppState(settings=c.settings, engine=c.engine).chain()
    ledger = gateway_chain.platform.ledger
    for tag in bodies:
        mine = [(status, body) for t, status, body in answers if t == tag]
        won = [body for status, body in mine if status == 201]
        assert len(won) == 1, (tag, mine)
        bundle = won[0]
        fingerprint = bytes.fromhex(bundle["fingerprint"][2:])
        assert ledger.receivable_id_by_fingerprint(fingerprint) == bundle["receivable_id"]
        for status, body in mine:
            if status != 201:
                codes = {body["error"]["code"], *(d.get("code") for d in body["error"].get("details") or [])}
                assert status in (409, 422) and "DUPLICATE_INVOICE_NUMBER" in codes, (tag, status, body)
    receivables = {body["receivable_id"] for _, status, body in answers if status == 201}
    assert len(receivables) == len(bodies)

    # no nonce gap: the verifier's counter in the database is the node's count, nothing parked
    verifier = gateway_chain.verifier.address
    with c.engine.connect() as conn:
        counter = conn.execute(text("SELECT next_nonce FROM tx_nonce WHERE address = :a"), {"a": verifier})
        parked = conn.execute(text("SELECT count(*) FROM tx_nonce_gap WHERE address = :a"), {"a": verifier})
        assert counter.scalar() == w3.eth.get_transaction_count(verifier, "pending")
        assert parked.scalar() == 0

    # the read model equals the chain, asked of either process
    for client in clients:
        check = client.request("GET", "/health/read-model", client.operator_key).json()
        assert check["in_sync"], check["differences"]

    # the leader dies without a word: the follower takes over and keeps indexing
    assert leader.process is not None
    leader.kill()
    t_kill = time.monotonic()
    me = _indexer(follower.url)["this_process"]
    while _indexer(follower.url)["leader"] != me:
        assert time.monotonic() - t_kill < 10, _indexer(follower.url)
        time.sleep(0.05)
    takeover = time.monotonic() - t_kill
    for _ in range(3):
        rpc(c.anvil.url, "evm_mine", [])
    head = w3.eth.block_number
    while (seen := _indexer(follower.url))["cursor"] < head:  # no read asks: the background indexer does it
        assert time.monotonic() - t_kill < 20, seen
        time.sleep(0.05)
    print(
        f"\n2 processes x 8 clients: {len(jobs)} submissions of {len(bodies)} invoices in {burst:.1f}s;"
        f" leader takeover after SIGKILL {takeover:.2f}s; whole test {time.monotonic() - t_start:.1f}s"
    )


def _signers(core: Actor, supplier: Actor) -> dict[str, Actor]:
    return {"Order": core, "DespatchAdvice": supplier, "Invoice": supplier}


def test_scf_up_refuses_several_workers_on_sqlite(tmp_path: Path) -> None:
    from cli.scf import check_workers

    sqlite = make_settings(tmp_path)
    with pytest.raises(ValueError, match="needs PostgreSQL"):
        check_workers(sqlite, 2)
    check_workers(sqlite, 1)
    check_workers(make_settings(tmp_path, database_url="postgresql+psycopg2://scf@127.0.0.1:1/scf"), 4)
