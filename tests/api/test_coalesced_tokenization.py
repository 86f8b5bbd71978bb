"""Concurrent ``POST /bundles`` registered together (``api.services.registrar``): one ``registerInvoices``
for the invoices that wait while a transaction is on its way, each request answered as if alone.

On the previous code every request sent its own ``registerInvoice``: the assertions that several
requests share one transaction fail there; the rest pins what must not change (one receivable per
invoice, a refused invoice fails alone and leaves nothing, a crash is recovered from the chain, each
request finds its transaction in the journal)."""

from __future__ import annotations

import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import Session, col, select

from api import journal
from api.models import Bundle, TokenizationClaim
from api.services.registrar import registrar_of
from chain.node import rpc
from cli.gateway_process import GatewayProcess
from tests.api.harness import (
    Actor,
    Gateway,
    bundle_body,
    distinct_trade,
    grant_credit,
    restart_node,
    start_gateway,
    trade_parties,
)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Gateway, Actor, Actor]]:
    gw = start_gateway(Path(tmp_path_factory.mktemp("coalesce")))
    core, supplier = trade_parties(gw)
    try:
        yield gw, core, supplier
    finally:
        gw.stop()


def _signers(core: Actor, supplier: Actor) -> dict[str, Actor]:
    return {"Order": core, "DespatchAdvice": supplier, "Invoice": supplier}


def _post(gw: Gateway, supplier: Actor, body: dict[str, Any], key: str) -> httpx.Response:
    return gw.request("POST", "/bundles", supplier.api_key, json=body, headers={"Idempotency-Key": key})


def _together(gw: Gateway, calls: list[Callable[[], httpx.Response]]) -> list[httpx.Response]:
    """Run the calls concurrently with the registrar held until all of them wait in its queue, so that
    they are registered in one transaction (if the ledger takes it)."""
    registrar = registrar_of(gw.state)
    registrar.hold()
    with ThreadPoolExecutor(len(calls)) as pool:
        futures: list[Future[httpx.Response]] = [pool.submit(c) for c in calls]
        deadline = time.monotonic() + 60
        while registrar.queued() < len(calls) and time.monotonic() < deadline:
            done = [f for f in futures if f.done()]
            assert not done, done[0].result().text  # refused before registration: the test is wrong
            time.sleep(0.01)
        assert registrar.queued() == len(calls)
        registrar.release()
        return [f.result(timeout=120) for f in futures]


def test_concurrent_submissions_share_one_transaction(world: tuple[Gateway, Actor, Actor]) -> None:
    gw, core, supplier = world
    signers = _signers(core, supplier)
    keys = [str(uuid.uuid4()) for _ in range(6)]
    bodies = [bundle_body(distinct_trade(f"COAL-{n}"), signers) for n in range(6)]
    registrar = registrar_of(gw.state)
    sent = registrar.transactions

    answers = _together(gw, [partial(_post, gw, supplier, b, k) for b, k in zip(bodies, keys, strict=True)])

    assert [r.status_code for r in answers] == [201] * 6, [r.text for r in answers]
    outs = [r.json() for r in answers]
    assert len({o["tx_hash"] for o in outs}) == 1  # one registerInvoices for all six
    assert registrar.transactions == sent + 1
    assert len({o["receivable_id"] for o in outs}) == 6
    ledger = gw.state.chain().platform.ledger
    for out in outs:  # each answer is its own invoice's receivable
        rid = out["receivable_id"]
        assert ledger.receivable_id_by_fingerprint(bytes.fromhex(out["fingerprint"][2:])) == rid
        assert ledger.receivable(rid).face_value == out["face_value_minor"]
    # read-your-own-writes: the supplier's newest block is the shared transaction's
    assert gw.state._newest_block(supplier.participant_id, None, anyone=False) == outs[0]["block_number"]
    with Session(gw.state.engine) as s:  # each request finds the shared transaction as its own
        for key in keys:
            assert [e.tx_hash for e in journal.of_request(s, supplier.participant_id, key)] == [
                outs[0]["tx_hash"]
            ]
    again = _post(gw, supplier, bodies[3], keys[3])
    assert again.status_code == 201 and again.headers.get("Idempotent-Replayed") == "true"
    assert again.json() == outs[3]


def test_an_invoice_the_ledger_refuses_fails_alone(world: tuple[Gateway, Actor, Actor]) -> None:
    """Four invoices wait together, the debtor's line has room for three: the ledger refuses the batch,
    each is sent on its own, and exactly one fails, with the ledger's reason, leaving nothing behind."""
    gw, core, supplier = world
    signers = _signers(core, supplier)
    ledger = gw.state.chain().platform.ledger
    probe = _post(gw, supplier, bundle_body(distinct_trade("COAL-PROBE"), signers), str(uuid.uuid4()))
    assert probe.status_code == 201, probe.text
    face = probe.json()["face_value_minor"]
    _, used = ledger.credit_line(core.address, gw.state.chain().platform.tokens["EUR"].address)
    assert grant_credit(gw, core.participant_id, used + 3 * face + face // 2).status_code == 200
    bodies = [bundle_body(distinct_trade(f"COAL-CREDIT-{n}"), signers) for n in range(4)]

    answers = _together(gw, [partial(_post, gw, supplier, b, str(uuid.uuid4())) for b in bodies])

    codes = sorted(r.status_code for r in answers)
    assert codes == [201, 201, 201, 409], [r.text for r in answers]
    (refused,) = [r for r in answers if r.status_code == 409]
    assert refused.json()["error"]["code"] == "CHAIN_CREDIT_LINE_EXCEEDED"
    tokenized = [r.json() for r in answers if r.status_code == 201]
    assert len({o["tx_hash"] for o in tokenized}) == 3  # sent one by one after the refusal
    numbers = {f"INV-COAL-CREDIT-{n}" for n in range(4)} - {o["invoice_number"] for o in tokenized}
    with Session(gw.state.engine) as s:
        left = s.exec(select(Bundle).where(col(Bundle.invoice_number).in_(numbers))).all()
        claims = s.exec(select(TokenizationClaim)).all()
    assert left == []
    assert len({c.bundle_id for c in claims}) == ledger.receivable_count()
    assert grant_credit(gw, core.participant_id, used + 10**12).status_code == 200


# ----------------------------------------------------------------------- a crash with a shared transaction


@pytest.fixture
def process_stack(tmp_path: Path) -> Iterator[tuple[Gateway, GatewayProcess, Actor, Actor]]:
    gw = start_gateway(tmp_path)
    proc = GatewayProcess(gw.settings, tmp_path / "gateway.log")
    try:
        core, supplier = trade_parties(gw)
        gw.server.should_exit = True  # the gateway under test is a process of its own
        gw.thread.join(timeout=10)
        proc.start()
        yield gw, proc, core, supplier
    finally:
        proc.kill()
        rpc(gw.anvil.url, "evm_setAutomine", [True])
        gw.stop()


def _submit(proc: GatewayProcess, supplier: Actor, body: dict[str, Any], key: str) -> httpx.Response:
    return httpx.post(
        f"{proc.url}/bundles",
        json=body,
        headers={"Authorization": f"Bearer {supplier.api_key}", "Idempotency-Key": key},
        timeout=120,
    )


def _in_background(call: Callable[[], object]) -> None:
    def run() -> None:
        try:
            call()
        except httpx.HTTPError:
            pass  # the gateway is killed under it

    threading.Thread(target=run, daemon=True).start()


def _pending(gw: Gateway) -> list[str]:
    return [str(h) for h in rpc(gw.anvil.url, "eth_getBlockByNumber", ["pending", False])["transactions"]]


def _wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 60
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def test_a_shared_transaction_of_a_killed_gateway_is_finished_for_every_request(
    process_stack: tuple[Gateway, GatewayProcess, Actor, Actor],
) -> None:
    """Automine off: a first submission's transaction waits in the pool, two more queue behind it; the
    first is mined, the two are sent together, and the gateway is killed while that transaction waits.
    After a restart each retry is answered from the shared receipt with its own receivable."""
    gw, proc, core, supplier = process_stack
    signers = _signers(core, supplier)
    bodies = {tag: bundle_body(distinct_trade(tag), signers) for tag in ("SHARE-A", "SHARE-B", "SHARE-C")}
    keys = {tag: str(uuid.uuid4()) for tag in bodies}
    rpc(gw.anvil.url, "evm_setAutomine", [False])
    _in_background(lambda: _submit(proc, supplier, bodies["SHARE-A"], keys["SHARE-A"]))
    _wait_for(lambda: len(_pending(gw)) == 1, "the first registration never reached the node")
    for tag in ("SHARE-B", "SHARE-C"):
        _in_background(partial(_submit, proc, supplier, bodies[tag], keys[tag]))
    time.sleep(3)  # both verified, stored and queued behind the first transaction
    rpc(gw.anvil.url, "evm_mine", [])
    _wait_for(lambda: len(_pending(gw)) == 1, "the shared registration never reached the node")
    (shared,) = _pending(gw)
    proc.kill()
    rpc(gw.anvil.url, "evm_mine", [])
    rpc(gw.anvil.url, "evm_setAutomine", [True])
    receipt = rpc(gw.anvil.url, "eth_getTransactionReceipt", [shared])
    assert int(receipt["status"], 16) == 1

    proc.start()
    answers = {tag: _submit(proc, supplier, bodies[tag], keys[tag]) for tag in ("SHARE-B", "SHARE-C")}
    for tag, r in answers.items():
        assert r.status_code == 201, r.text
        assert r.headers.get("Idempotent-Replayed") == "true"
        assert r.json()["tx_hash"] == shared and r.json()["invoice_number"] == f"INV-{tag}"
    ledger = gw.state.chain().platform.ledger
    for r in answers.values():
        out = r.json()
        assert (
            ledger.receivable_id_by_fingerprint(bytes.fromhex(out["fingerprint"][2:])) == out["receivable_id"]
        )
    assert answers["SHARE-B"].json()["receivable_id"] != answers["SHARE-C"].json()["receivable_id"]


def test_the_node_lost_a_shared_transaction(tmp_path: Path) -> None:
    """Two tokenizations share one transaction, then the node comes back from an older state without
    it. Both bundles are released (the old code gave both its hash in place of their fingerprint: the
    unique index refused the second, and the reconciliation failed with a 500), both requests are
    forgotten, and their retries tokenize again."""
    gw = start_gateway(tmp_path, state_file=True, timeout=180)
    try:
        core, supplier = trade_parties(gw)
        signers = _signers(core, supplier)
        restart_node(gw)  # its state file now holds everything so far: the "older state"
        assert gw.anvil.state_file is not None
        older = tmp_path / "older-state.json"
        shutil.copy(gw.anvil.state_file, older)
        bodies = [bundle_body(distinct_trade(f"COAL-LOST-{n}"), signers) for n in range(2)]
        keys = [str(uuid.uuid4()) for _ in bodies]
        first = _together(gw, [partial(_post, gw, supplier, b, k) for b, k in zip(bodies, keys, strict=True)])
        assert [r.status_code for r in first] == [201, 201], [r.text for r in first]
        assert first[0].json()["tx_hash"] == first[1].json()["tx_hash"]

        restart_node(gw, older=older, kill=True)
        time.sleep(1.1)  # past the per-process throttle of the lost-block check
        check = gw.request("GET", "/health/read-model", gw.operator_key)
        assert check.status_code == 200 and check.json()["in_sync"], check.text
        incident = gw.request("GET", "/health", None).json()["chain"]["lost_blocks"]
        assert (incident["vanished_transactions"], incident["released_bundles"]) == (1, 2)
        with Session(gw.state.engine) as s:
            statuses = s.exec(
                select(Bundle.status).where(
                    col(Bundle.invoice_number).in_(["INV-COAL-LOST-0", "INV-COAL-LOST-1"])
                )
            ).all()
        assert sorted(statuses) == ["vanished", "vanished"]

        again = [_post(gw, supplier, b, k) for b, k in zip(bodies, keys, strict=True)]
        assert [r.status_code for r in again] == [201, 201], [r.text for r in again]
        assert all(r.headers.get("Idempotent-Replayed") is None for r in again)  # run again, not replayed
        ledger = gw.state.chain().platform.ledger
        for r in again:
            out = r.json()
            assert (
                ledger.receivable_id_by_fingerprint(bytes.fromhex(out["fingerprint"][2:]))
                == out["receivable_id"]
            )
    finally:
        gw.stop()
