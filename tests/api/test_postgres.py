"""PostgreSQL: the schema migrates there too, and two processes share one account's nonces."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine

from api.db import alembic_config, current_revision, head_revisions
from chain.client import connect
from chain.node import AnvilNode
from chain.settings import PROJECT_ROOT
from tests.conftest import DEV_KEYS
from tests.pg import PgCluster


@pytest.fixture(scope="module")
def pg() -> Iterator[PgCluster]:
    cluster = PgCluster.start()
    yield cluster
    cluster.stop()


def test_migrations_on_postgres(pg: PgCluster) -> None:
    cfg = alembic_config(pg.url)
    command.upgrade(cfg, "heads")
    command.check(cfg)
    assert current_revision(create_engine(pg.url)) == head_revisions()


def test_two_processes_share_one_accounts_nonces(pg: PgCluster, anvil: AnvilNode, tmp_path: Path) -> None:
    command.upgrade(alembic_config(pg.url), "heads")
    key = DEV_KEYS[2]
    w3 = connect(anvil.url)
    from eth_account import Account

    address = Account.from_key(key).address
    start = w3.eth.get_transaction_count(address)
    per_thread, threads, processes = 5, 4, 2
    cmd = [
        sys.executable,
        "-m",
        "tests.api.nonce_worker",
        anvil.url,
        pg.url,
        key,
        str(per_thread),
        str(threads),
    ]
    procs = [
        subprocess.Popen(cmd, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(processes)
    ]
    used: list[int] = []
    for p in procs:
        out, err = p.communicate(timeout=240)
        assert p.returncode == 0, err[-2000:]
        used += [int(n) for line in out.split() for n in [line]]
    total = per_thread * threads * processes
    assert sorted(used) == list(range(start, start + total))  # each nonce exactly once, no gap
    assert w3.eth.get_transaction_count(address) == start + total


def test_two_processes_never_finance_more_than_a_delivery_carries(pg: PgCluster) -> None:
    """Quantity claims from 2 processes x 4 threads on PostgreSQL: 10 delivered, claims of 3 each."""
    from decimal import Decimal

    from sqlmodel import Session, select

    from api.models import Participant, QuantityConsumption

    command.upgrade(alembic_config(pg.url), "heads")
    engine = create_engine(pg.url)
    ids = []
    with Session(engine) as s:
        for n, role in enumerate(("core_enterprise", "supplier")):
            pid = f"pg-qty-{role}"
            s.add(
                Participant(
                    id=pid,
                    legal_name=pid,
                    registration_id=pid,
                    role=role,
                    chain_address=f"0x{n:040x}",
                    certificate_pem="-",
                    certificate_serial=pid,
                    identity_hash="0x",
                    api_key_hash=pid,
                )
            )
            ids.append(pid)
        s.commit()
    cmd = [sys.executable, "-m", "tests.api.quantity_worker", pg.url, *ids, "4", "3"]
    procs = [
        subprocess.Popen(cmd, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    won = 0
    for p in procs:
        out, err = p.communicate(timeout=240)
        assert p.returncode == 0, err[-2000:]
        won += int(out.strip())
    assert won == 3  # 3 x 3 <= 10 < 4 x 3, whatever the interleaving
    with Session(engine) as s:
        rows = s.exec(select(QuantityConsumption)).all()
        delivered = [Decimal(r.quantity) for r in rows if ":DespatchAdvice:" in r.lock_key]
    assert sum(delivered, Decimal(0)) == 9
    engine.dispose()
