"""A gateway killed between sending a transaction and recording it: the client's retry learns the truth.

The gateway runs in a process of its own and is killed with SIGKILL while it waits for a receipt (the
node's automine is off, so the transaction sits in the pool: the window is exact, not a race). Then:

- the transaction is mined: the restarted gateway finishes the request from the receipt, and the
  retry with the same ``Idempotency-Key`` gets the receivable the chain holds;
- the transaction is dropped from the pool (it never ran): the request is released and the retry
  runs it again, and the nonce it had taken is handed out again (no gap: later transactions mine).

On the old code both retries answered 409 ``IDEMPOTENCY_IN_PROGRESS`` forever, and the invoice's claims
stayed taken.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from sqlmodel import Session, col, select

from api.models import Bundle, IdempotencyRecord, TxJournal
from chain.node import rpc
from cli.gateway_process import GatewayProcess
from tests.api.harness import (
    Actor,
    Gateway,
    bundle_body,
    distinct_trade,
    onboard,
    start_gateway,
    trade_parties,
)


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[tuple[Gateway, GatewayProcess, Actor, Actor]]:
    gw = start_gateway(tmp_path)
    proc = GatewayProcess(gw.settings, tmp_path / "gateway.log")
    try:
        core, supplier = trade_parties(gw)
        # the stack's own server leaves; the gateway under test is a process of its own
        gw.server.should_exit = True
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
        timeout=60,
    )


def _crash_while_waiting(
    gw: Gateway, proc: GatewayProcess, supplier: Actor, body: dict[str, Any], key: str
) -> str:
    """Send the submission with automine off, kill the gateway once its transaction is in the pool;
    the transaction's hash."""
    rpc(gw.anvil.url, "evm_setAutomine", [False])
    threading.Thread(target=lambda: _ignore(lambda: _submit(proc, supplier, body, key)), daemon=True).start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        pending = rpc(gw.anvil.url, "eth_getBlockByNumber", ["pending", False])["transactions"]
        if pending:
            proc.kill()
            return str(pending[0])
        time.sleep(0.05)
    raise AssertionError("the submission never reached the node")


def _ignore(call: Any) -> None:
    try:
        call()
    except httpx.HTTPError:
        pass


def _record(gw: Gateway, supplier: Actor, key: str) -> IdempotencyRecord | None:
    with Session(gw.state.engine) as s:
        return s.get(IdempotencyRecord, (supplier.participant_id, key))


def test_a_mined_transaction_of_a_killed_gateway_is_finished_from_its_receipt(
    stack: tuple[Gateway, GatewayProcess, Actor, Actor],
) -> None:
    gw, proc, core, supplier = stack
    body = bundle_body(
        distinct_trade("CRASH-MINED"), {"Order": core, "DespatchAdvice": supplier, "Invoice": supplier}
    )
    key = str(uuid.uuid4())
    tx = _crash_while_waiting(gw, proc, supplier, body, key)
    record = _record(gw, supplier, key)
    assert record is not None and record.state == "in_progress"
    rpc(gw.anvil.url, "evm_mine", [])
    rpc(gw.anvil.url, "evm_setAutomine", [True])
    receipt = rpc(gw.anvil.url, "eth_getTransactionReceipt", [tx])
    assert receipt is not None and int(receipt["status"], 16) == 1

    proc.start()  # on start it finishes what the dead one left (the retry would, too)
    retry = _submit(proc, supplier, body, key)
    assert retry.status_code == 201, retry.text
    assert retry.headers.get("Idempotent-Replayed") == "true"
    answer = retry.json()
    assert answer["tx_hash"] == tx and answer["status"] == "tokenized"
    chain_count = gw.state.chain().platform.ledger.receivable_count()
    assert answer["receivable_id"] == chain_count  # the one receivable that transaction made
    again = _submit(proc, supplier, body, key)
    assert again.status_code == 201 and again.json() == answer
    with Session(gw.state.engine) as s:
        bundles = s.exec(select(Bundle).where(col(Bundle.invoice_number) == "INV-CRASH-MINED")).all()
    assert [(b.status, b.receivable_id) for b in bundles] == [("tokenized", chain_count)]


def test_a_transaction_that_never_ran_is_released_and_the_retry_runs_it(
    stack: tuple[Gateway, GatewayProcess, Actor, Actor],
) -> None:
    gw, proc, core, supplier = stack
    body = bundle_body(
        distinct_trade("CRASH-LOST"), {"Order": core, "DespatchAdvice": supplier, "Invoice": supplier}
    )
    key = str(uuid.uuid4())
    count_before = gw.state.chain().platform.ledger.receivable_count()
    tx = _crash_while_waiting(gw, proc, supplier, body, key)
    rpc(gw.anvil.url, "anvil_dropTransaction", [tx])  # it never ran: gone from the pool
    rpc(gw.anvil.url, "evm_setAutomine", [True])

    proc.start()
    retry = _submit(proc, supplier, body, key)
    assert retry.status_code == 201, retry.text
    answer = retry.json()
    assert answer["status"] == "tokenized" and answer["receivable_id"] == count_before + 1
    assert gw.state.chain().platform.ledger.receivable_count() == count_before + 1
    # the dropped transaction's nonce went to the retry: the verifier has no gap, its next one mines too
    nxt = _submit(
        proc,
        supplier,
        bundle_body(
            distinct_trade("CRASH-NEXT"), {"Order": core, "DespatchAdvice": supplier, "Invoice": supplier}
        ),
        str(uuid.uuid4()),
    )
    assert nxt.status_code == 201, nxt.text
    # sent again with its own nonce, the call is the very same transaction: the same hash, now mined
    assert answer["tx_hash"] == tx
    with Session(gw.state.engine) as s:
        assert s.get(TxJournal, tx).state == "mined"  # type: ignore[union-attr]


def test_a_killed_gateways_mined_offer_is_answered_with_its_offer_id(
    stack: tuple[Gateway, GatewayProcess, Actor, Actor],
) -> None:
    """The answer rebuilt from the receipt carries what the receipt's events say (the new offer's id),
    as the first answer would have."""
    gw, proc, core, supplier = stack
    body = bundle_body(
        distinct_trade("CRASH-OFFER"), {"Order": core, "DespatchAdvice": supplier, "Invoice": supplier}
    )
    made = _submit(proc, supplier, body, str(uuid.uuid4()))
    assert made.status_code == 201, made.text
    rid = made.json()["receivable_id"]
    # the test's own stack (thread) is gone: onboard and endorse through the gateway process
    gw.http = httpx.Client(base_url=proc.url, timeout=60)
    bank = onboard(gw, "financier", "Hansa Trade Finance", "DE811234567", [], custodial=True)
    # the core enterprise signs its endorsement with its own key (EIP-712), the gateway relays it
    typed = gw.request("GET", f"/receivables/{rid}/endorsement-request?accept=true", core.api_key)
    assert typed.status_code == 200, typed.text
    signature = Account.sign_message(
        encode_typed_data(full_message=typed.json()["typed_data"]), core.chain_key
    )
    deadline = typed.json()["typed_data"]["message"]["deadline"]
    endorsed = gw.request(
        "POST",
        f"/receivables/{rid}/endorsement-signature",
        core.api_key,
        json={"accept": True, "deadline": deadline, "signature": signature.signature.to_0x_hex()},
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert endorsed.status_code == 200, endorsed.text

    key = str(uuid.uuid4())
    offer = {"receivable_id": rid, "max_amount": 1000, "rate_bps": 600, "expiry": int(time.time()) + 86_400}
    rpc(gw.anvil.url, "evm_setAutomine", [False])

    def send() -> httpx.Response:
        return httpx.post(
            f"{proc.url}/offers",
            json=offer,
            headers={"Authorization": f"Bearer {bank.api_key}", "Idempotency-Key": key},
            timeout=60,
        )

    threading.Thread(target=lambda: _ignore(send), daemon=True).start()
    deadline_t = time.monotonic() + 60
    while not rpc(gw.anvil.url, "eth_getBlockByNumber", ["pending", False])["transactions"]:
        assert time.monotonic() < deadline_t, "the offer never reached the node"
        time.sleep(0.05)
    proc.kill()
    rpc(gw.anvil.url, "evm_mine", [])
    rpc(gw.anvil.url, "evm_setAutomine", [True])
    proc.start()
    retry = send()
    assert retry.status_code == 201, retry.text
    market = gw.state.chain().platform.market
    assert retry.json()["offer_id"] == market.offer_count()
    assert market.offer(retry.json()["offer_id"]).receivable_id == rid
    assert (
        retry.json()["tx_hash"]
        == rpc(gw.anvil.url, "eth_getBlockByNumber", ["latest", False])["transactions"][0]
    )
