"""Lost blocks: the node no longer has blocks the gateway saw (restored from an older state, a deep
reorganization). Found by the block hash of the newest transaction the journal saw mined; then the
gateway reconciles with the chain it has now:

- every transaction of the journal in a lost block is looked up again: mined elsewhere (kept), still
  pending (kept), or gone: **vanished**;
- a request whose transaction vanished loses its stored answer, so the client's retry with the same
  ``Idempotency-Key`` runs it again against today's chain instead of replaying dead ids;
- a bundle whose registration vanished is marked ``vanished`` and its claims on the invoice, order
  and deliveries are released: the supplier's retry (or a new submission of the same documents)
  verifies and tokenizes it again. Why release rather than resubmit on its own: see RELIABILITY.md;
- every sending account's nonce counter is set back to the node's count (a counter ahead of the chain
  makes every later transaction wait for nonces that will never come);
- a ``ChainIncident`` row says what happened, and ``/health`` shows it. The read model rolls back by
  itself (``readmodel.indexer``: its own block hashes).

``check`` is cheap (one SQL query and one JSON-RPC call, at most once a second per process) and runs
before every transaction the gateway signs and every catch-up of the read model.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from typing import Any

from hexbytes import HexBytes
from sqlalchemy import Engine
from sqlmodel import Session, col, delete, select
from web3 import Web3
from web3.exceptions import BlockNotFound, TransactionNotFound
from web3.types import TxReceipt

from api import journal
from api.models import (
    Bundle,
    ChainIncident,
    IdempotencyRecord,
    QuantityConsumption,
    TokenizationClaim,
    TxJournal,
)
from api.nonces import reset_nonces

log = logging.getLogger(__name__)

#: seconds between two checks in one process
CHECK_INTERVAL = 1.0

_lock = threading.Lock()
_last_check: dict[str, float] = {}


def check(w3: Web3, engine: Engine, *, force: bool = False) -> ChainIncident | None:
    """Reconcile if the node lost blocks the journal saw mined; at most once per ``CHECK_INTERVAL``."""
    key = str(engine.url)
    now = time.monotonic()
    with _lock:
        if not force and now - _last_check.get(key, -CHECK_INTERVAL) < CHECK_INTERVAL:
            return None
        _last_check[key] = now
        if not lost_blocks(w3, engine):
            return None
        return reconcile(w3, engine)


def _newest_mined(engine: Engine) -> TxJournal | None:
    with Session(engine) as s:
        query = (
            select(TxJournal)
            .where(col(TxJournal.state) == journal.MINED)
            .order_by(col(TxJournal.block_number).desc())
            .limit(1)
        )
        return s.exec(query).first()


def _hash_at(w3: Web3, number: int) -> str | None:
    try:
        return HexBytes(w3.eth.get_block(number)["hash"]).to_0x_hex()
    except BlockNotFound:
        return None


def lost_blocks(w3: Web3, engine: Engine) -> bool:
    """Whether the block of the newest transaction the journal saw mined is gone from the chain."""
    newest = _newest_mined(engine)
    if newest is None or newest.block_number is None:
        return False
    return _hash_at(w3, newest.block_number) != newest.block_hash


def reconcile(w3: Web3, engine: Engine) -> ChainIncident:
    """Bring the gateway's records back in line with the chain the node has now (see the module)."""
    head = w3.eth.block_number
    hashes: dict[int, str | None] = {}
    vanished: list[TxJournal] = []
    changed: list[TxJournal] = []
    fork = -1
    with Session(engine) as s:
        # newest first; below the first block the chain still has, nothing was lost (hashes chain)
        mined = s.exec(
            select(TxJournal)
            .where(col(TxJournal.state) == journal.MINED)
            .order_by(col(TxJournal.block_number).desc())
        )
        for entry in mined:
            number = int(entry.block_number or 0)
            if number not in hashes:
                hashes[number] = _hash_at(w3, number)
            if hashes[number] == entry.block_hash:
                fork = number
                break
            receipt = receipt_or_none(w3, entry.tx_hash)
            if receipt is not None:  # mined again in another block
                entry.block_number = int(receipt["blockNumber"])
                entry.block_hash = HexBytes(receipt["blockHash"]).to_0x_hex()
            elif pending_at_node(w3, entry.tx_hash):
                entry.state, entry.block_number, entry.block_hash = journal.SENT, None, None
            else:
                entry.state = journal.VANISHED
                vanished.append(entry)
            s.add(entry)
            changed.append(entry)
        journal.mirror_blocks(s, changed)
        released = _release(s, vanished)
        vanished_hashes = [e.tx_hash for e in vanished]
        s.commit()
    moved = reset_nonces(w3, engine, lambda address, count: _waiting(w3, engine, address, count))
    incident = ChainIncident(
        fork_block=fork,
        chain_head=head,
        vanished_transactions=len(vanished_hashes),
        released_bundles=len(released),
        resynced_accounts=moved,
        details=json.dumps({"vanished": vanished_hashes, "bundles": released}),
    )
    with Session(engine) as s:
        s.add(incident)
        s.commit()
        s.refresh(incident)
    log.error(
        "the node lost blocks after %d (head now %d): %d transaction(s) vanished, %d bundle(s) released,"
        " %d nonce counter(s) reset",
        fork,
        head,
        len(vanished_hashes),
        len(released),
        moved,
    )
    return incident


def _waiting(w3: Web3, engine: Engine, address: str, count: int) -> set[int]:
    """Nonces at or above ``count`` of ``address``'s journaled transactions that wait in the node's pool."""
    with Session(engine) as s:
        sent = s.exec(
            select(TxJournal)
            .where(col(TxJournal.sender) == address)
            .where(col(TxJournal.state) == journal.SENT)
            .where(col(TxJournal.nonce) >= count)
        ).all()
        return {int(e.nonce) for e in sent if pending_at_node(w3, e.tx_hash)}


def _release(s: Session, vanished: list[TxJournal]) -> list[dict[str, Any]]:
    """Forget the answers of the requests whose transaction vanished; mark their bundles vanished and
    free the claims those held."""
    released: list[dict[str, Any]] = []
    hashes = [e.tx_hash for e in vanished]
    for served in journal.requests_of(s, vanished):
        record = s.get(IdempotencyRecord, served)
        if record is not None:
            s.delete(record)
    if not hashes:
        return released
    for bundle in s.exec(select(Bundle).where(col(Bundle.tx_hash).in_(hashes))).all():
        released.append(
            {
                "bundle_id": bundle.id,
                "invoice_number": bundle.invoice_number,
                "receivable_id": bundle.receivable_id,
                "tx_hash": bundle.tx_hash,
            }
        )
        s.exec(delete(TokenizationClaim).where(col(TokenizationClaim.bundle_id) == bundle.id))
        s.exec(delete(QuantityConsumption).where(col(QuantityConsumption.bundle_id) == bundle.id))
        bundle.status = "vanished"
        bundle.receivable_id = None
        # the fingerprint is unique among bundles: the vanished one gives it up, so that the same invoice
        # can be tokenized again, and keeps a value of its own there (not its registration's hash: the
        # bundles of concurrent tokenizations share one transaction)
        bundle.fingerprint = vanished_fingerprint(bundle.id)
        s.add(bundle)
    return released


def vanished_fingerprint(bundle_id: str) -> str:
    """What a vanished bundle keeps in place of its fingerprint: unique, and no invoice's."""
    return "0x" + hashlib.sha256(f"vanished bundle {bundle_id}".encode()).hexdigest()


def receipt_or_none(w3: Web3, tx_hash: str) -> TxReceipt | None:
    """The receipt of ``tx_hash``, or ``None`` if the node has none."""
    try:
        return w3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
    except TransactionNotFound:
        return None


def pending_at_node(w3: Web3, tx_hash: str) -> bool:
    """Whether the node holds ``tx_hash`` (mined or waiting in its pool)."""
    try:
        w3.eth.get_transaction(tx_hash)  # type: ignore[arg-type]
    except TransactionNotFound:
        return False
    return True


def latest_incident(engine: Engine) -> ChainIncident | None:
    with Session(engine) as s:
        return s.exec(select(ChainIncident).order_by(col(ChainIncident.id).desc()).limit(1)).first()
