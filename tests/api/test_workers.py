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
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from api.leader import Leadership, current_leader, process_id
from chain.settings import PROJECT_ROOT
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
        a.release()
        assert current_leader(engine) is None
        assert b.try_lead() and not a.try_lead()
        b.release()

        proc = _holder(url)  # another process leads
        try:
            assert not a.try_lead() and a.held_elsewhere
            assert current_leader(engine) == a.leader() == f"{process_id().rpartition(':')[0]}:{proc.pid}"
            proc.send_signal(signal.SIGKILL)  # no goodbye: the server (or the kernel) drops its lock
            proc.wait()
            t0 = time.monotonic()
            while not a.try_lead():
                assert time.monotonic() - t0 < 5, "the dead leader's lock was not released"
                time.sleep(0.05)
            assert current_leader(engine) == process_id()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    finally:
        a.release()
        b.release()
        engine.dispose()
