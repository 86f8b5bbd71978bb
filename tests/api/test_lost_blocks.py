"""The node loses blocks the gateway saw: Anvil restarted from an older copy of its state file.

Before the restart the gateway tokenized two invoices that only the newer state holds. After it, on
the old code: both bundles stayed ``tokenized`` with receivable ids the chain no longer has, the
retries replayed those dead ids, the invoices could never be submitted again (duplicate), the
verifier's nonce counter stayed ahead of the chain (the next transaction waited 120 s for nonces that
never come), and ``/health/read-model`` said in sync. Now the gateway finds it (the block hash of its
newest mined transaction), reconciles, and says so in ``/health``.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlmodel import Session, col, select

from api.models import Bundle
from api.services.bootstrap import start_background_indexer, stop_background_indexer
from tests.api.harness import (
    Actor,
    Gateway,
    bundle_body,
    distinct_trade,
    restart_node,
    start_gateway,
    trade_parties,
)


@pytest.fixture
def gw(tmp_path: Path) -> Iterator[Gateway]:
    gateway = start_gateway(tmp_path, state_file=True, timeout=180)
    try:
        yield gateway
    finally:
        gateway.stop()


def _submit(gw: Gateway, supplier: Actor, body: dict[str, Any], key: str) -> httpx.Response:
    return gw.request("POST", "/bundles", supplier.api_key, json=body, headers={"Idempotency-Key": key})


def test_the_gateway_reconciles_after_the_node_lost_blocks(gw: Gateway, tmp_path: Path) -> None:
    core, supplier = trade_parties(gw)
    signers = {"Order": core, "DespatchAdvice": supplier, "Invoice": supplier}
    kept = _submit(gw, supplier, bundle_body(distinct_trade("KEPT"), signers), str(uuid.uuid4()))
    assert kept.status_code == 201, kept.text

    restart_node(gw)  # its state file now holds everything so far: keep a copy, the "older state"
    assert gw.anvil.state_file is not None
    older = tmp_path / "older-state.json"
    shutil.copy(gw.anvil.state_file, older)

    bodies = {tag: bundle_body(distinct_trade(tag), signers) for tag in ("LOST-1", "LOST-2")}
    keys = {tag: str(uuid.uuid4()) for tag in bodies}
    lost = {}
    for tag, body in bodies.items():
        r = _submit(gw, supplier, body, keys[tag])
        assert r.status_code == 201, r.text
        lost[tag] = r.json()
    ledger = gw.state.chain().platform.ledger
    assert ledger.receivable_count() == kept.json()["receivable_id"] + 2

    restart_node(
        gw, older=older, kill=True
    )  # the node comes back from the older state: two registrations gone
    assert ledger.receivable_count() == kept.json()["receivable_id"]
    time.sleep(1.1)  # past the per-process throttle of the check

    # the read-model check finds it, reconciles, and is then truly in sync
    check = gw.request("GET", "/health/read-model", gw.operator_key)
    assert check.status_code == 200 and check.json()["in_sync"], check.text
    health = gw.request("GET", "/health", None).json()
    incident = health["chain"]["lost_blocks"]
    assert incident is not None, health
    assert (incident["vanished_transactions"], incident["released_bundles"]) == (2, 2)
    assert incident["resynced_accounts"] >= 1  # the verifier's counter was ahead
    with Session(gw.state.engine) as s:
        statuses = {
            b.invoice_number: (b.status, b.receivable_id)
            for b in s.exec(
                select(Bundle).where(col(Bundle.invoice_number).in_(["INV-LOST-1", "INV-LOST-2"]))
            )
        }
        counters = dict(s.exec(text("SELECT address, next_nonce FROM tx_nonce")).all())  # type: ignore[call-overload]
    assert statuses == {"INV-LOST-1": ("vanished", None), "INV-LOST-2": ("vanished", None)}
    w3 = gw.state.chain().w3
    for address, ours in counters.items():
        assert ours == w3.eth.get_transaction_count(address, "pending"), address

    # reads do not wait for blocks the chain no longer has (with a background indexer, a read waits for
    # the caller's newest mined block: a vanished transaction's old number made every read wait 2 s)
    stop = threading.Event()
    start_background_indexer(gw.state, stop)
    try:
        time.sleep(0.5)
        t_read = time.monotonic()
        holdings = gw.request("GET", "/holdings", supplier.api_key)
        assert holdings.status_code == 200, holdings.text
        assert time.monotonic() - t_read < 1.5
    finally:
        stop.set()

    # the retry with the same key runs again (no dead id replayed), in bounded time (no nonce wait)
    t0 = time.monotonic()
    again = _submit(gw, supplier, bodies["LOST-1"], keys["LOST-1"])
    assert again.status_code == 201, again.text
    assert time.monotonic() - t0 < 30
    assert again.headers.get("Idempotent-Replayed") is None
    rid = again.json()["receivable_id"]
    assert ledger.receivable(rid).face_value == again.json()["face_value_minor"]
    assert ledger.receivable_id_by_fingerprint(bytes.fromhex(again.json()["fingerprint"][2:])) == rid
    # the other invoice can be submitted again, with a new key (its claims were released)
    fresh = _submit(gw, supplier, bodies["LOST-2"], str(uuid.uuid4()))
    assert fresh.status_code == 201, fresh.text
    assert ledger.receivable_count() == kept.json()["receivable_id"] + 2
    final = gw.request("GET", "/health/read-model", gw.operator_key).json()
    assert final["in_sync"], final


def test_the_background_indexer_rides_out_a_node_outage(
    gw: Gateway, caplog: pytest.LogCaptureFixture
) -> None:
    """A node that is down is an expected state, not a defect: the loop says so in one line (no
    traceback: ``scf up`` stopping its chain under a running turn printed one), and indexes again once
    the node is back. ``stop_background_indexer`` returns only when the loop's turn has ended."""
    core, supplier = trade_parties(gw)
    signers = {"Order": core, "DespatchAdvice": supplier, "Invoice": supplier}
    stop = threading.Event()
    caplog.set_level(logging.INFO, logger="api.services.bootstrap")
    thread = start_background_indexer(gw.state, stop, interval=0.05)
    try:
        gw.anvil.stop()
        time.sleep(0.5)
        down = [
            r for r in caplog.records if r.name == "api.services.bootstrap" and r.levelno >= logging.WARNING
        ]
        assert down, "the loop said nothing while the node was down"
        assert all(r.exc_info is None and "unreachable" in r.getMessage() for r in down), [
            (r.getMessage(), r.exc_info) for r in down
        ]
        restart_node(gw, stop=False)
        made = _submit(gw, supplier, bundle_body(distinct_trade("AFTER-OUTAGE"), signers), str(uuid.uuid4()))
        assert made.status_code == 201, made.text
        head = gw.state.chain().w3.eth.block_number
        deadline = time.monotonic() + 20
        while gw.state._view().block < head and time.monotonic() < deadline:
            time.sleep(0.05)
        assert gw.state._view().block >= head, "the loop did not index again after the outage"
        assert gw.request("GET", "/health/read-model", gw.operator_key).json()["in_sync"]
    finally:
        stop_background_indexer(stop, thread)
    assert not thread.is_alive()
