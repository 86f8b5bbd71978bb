"""Recovery: finishing, from the chain's own record, the requests a crash or a lost receipt left open.

An idempotency record stays ``in_progress`` when its process died, or when a transaction of it may
have reached the chain but its outcome is unknown (``services.idempotency.release``). Its journal
(``api.journal``) names the transactions it sent; each is looked up by hash:

- mined: the request is finished with the answer rebuilt from the receipt (the ``kind`` the service
  noted before sending names the recoverer; a revert answers as the revert would have);
- still pending at the node: the retry is asked to wait (409);
- unknown to the node (never left, or lost with blocks the node no longer has): the request is
  released, its unused nonce given back, and the retry runs it again.

The client that retries with the same ``Idempotency-Key`` therefore always learns the true outcome.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel
from sqlmodel import Session, col, select
from web3 import Web3
from web3.types import TxReceipt

from api import chainwatch, journal
from api.chainwatch import pending_at_node, receipt_or_none
from api.errors import ApiError, error_envelope
from api.models import ChainAccount, IdempotencyRecord, Participant, TxJournal
from api.nonces import park_nonce
from api.services import idempotency as store
from api.services.accounts import sender_for
from api.services.lifecycle import tx_out
from api.services.txerrors import revert_to_api_error
from api.state import AppState
from chain.client import HOLE_AGE, Sender, TransactionReverted, replay_revert

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Recoverer:
    """How one kind of request is finished from its receipt, or undone when its transaction never ran."""

    finish: Callable[[AppState, Session, TxReceipt, dict[str, Any]], BaseModel]
    release: Callable[[AppState, Session, dict[str, Any]], None] = lambda _state, _session, _out: None
    #: ``finish`` reads the outcome from the ledger itself, whatever the last receipt says (a request of
    #: several transactions, some refused)
    judges_itself: bool = False


def _plain(_state: AppState, _session: Session, receipt: TxReceipt, out: dict[str, Any]) -> BaseModel:
    return tx_out(receipt, **out)


#: ``kind`` (``api.journal.describe``) -> its recoverer; the services that send register theirs
RECOVERERS: dict[str, Recoverer] = {"tx": Recoverer(finish=_plain)}


def register(kind: str, recoverer: Recoverer) -> None:
    RECOVERERS[kind] = recoverer


def settle_entry(state: AppState, session: Session, entry: TxJournal) -> TxReceipt | None:
    """Look ``entry`` up on the chain: its receipt if mined (journal updated); ``None`` if it is gone
    (journal says vanished, its nonce given back if unused). Raises 409 while the node still holds it."""
    w3 = state.chain().w3
    receipt = receipt_or_none(w3, entry.tx_hash)
    if receipt is not None:
        if entry.state != journal.MINED or entry.block_hash != receipt["blockHash"].to_0x_hex():
            journal.mark(
                state.engine,
                entry.tx_hash,
                journal.MINED,
                int(receipt["blockNumber"]),
                receipt["blockHash"].to_0x_hex(),
            )
        return receipt
    if pending_at_node(w3, entry.tx_hash):
        if fill_holes_before(state, session, entry):
            return settle_entry(state, session, entry)
        raise ApiError(
            409,
            "IDEMPOTENCY_IN_PROGRESS",
            f"Its transaction {entry.tx_hash} is waiting to be mined; retry this request shortly.",
        )
    journal.mark(state.engine, entry.tx_hash, journal.VANISHED)
    park_nonce(w3, state.engine, entry.sender, entry.nonce)
    return None


def fill_holes_before(state: AppState, session: Session, entry: TxJournal) -> bool:
    """``entry`` waits in the node's pool behind a nonce that never reached it (a crash, or a failure
    between taking the nonce and sending): fill each missing nonce below it with a transaction that does
    nothing, so that it runs. True if holes were filled (and ``entry`` has since been mined)."""
    w3 = state.chain().w3
    address = Web3.to_checksum_address(entry.sender)
    created = entry.created_at if entry.created_at.tzinfo else entry.created_at.replace(tzinfo=UTC)
    waited = (datetime.now(UTC) - created).total_seconds()
    if waited < HOLE_AGE or w3.eth.get_transaction_count(address, "pending") > entry.nonce:
        return False
    sender = _sender_of(state, session, address)
    if sender is None:
        return False
    log.warning(
        "filling the nonces of %s below %d: %s waits behind them", address, entry.nonce, entry.tx_hash
    )
    sender.fill_holes_below(entry.nonce, waited)
    return receipt_or_none(w3, entry.tx_hash) is not None


def _sender_of(state: AppState, session: Session, address: str) -> Sender | None:
    """The gateway's sender for ``address``, if it holds its key (its own accounts, custodial ones)."""
    chain = state.chain()
    for own in (chain.verifier, chain.operator):
        if own.address.lower() == address.lower():
            return own
    participant = session.exec(select(Participant).where(col(Participant.chain_address) == address)).first()
    if participant is None or session.get(ChainAccount, participant.id) is None:
        return None
    return sender_for(state, session, participant)


def recover_request(
    state: AppState, session: Session, record: IdempotencyRecord
) -> store.StoredAnswer | None:
    """Finish an abandoned ``in_progress`` record from the chain: its stored answer, or ``None`` when
    nothing of it ran (the record is then gone, and the request may run again)."""
    # read once: the row may be gone by the time the chain has answered (a reconciliation after lost
    # blocks drops the claims of vanished requests), and a refresh of it would then fail
    # ``handle``: the Idempotency-Key (a client-chosen label, not a secret)
    pid, handle, success = record.participant_id, record.key, record.status_code or 200
    note: dict[str, Any] = json.loads(record.recovery_json) if record.recovery_json else {}
    recoverer = RECOVERERS.get(str(note.get("kind", "tx")), RECOVERERS["tx"])
    out: dict[str, Any] = note.get("out", {})
    receipts = []
    for entry in journal.of_request(session, pid, handle):
        if entry.state in (journal.UNSENT, journal.VANISHED):  # never ran (or not any more)
            continue
        receipt = settle_entry(state, session, entry)
        if receipt is not None:
            receipts.append(receipt)
    session.expire_all()
    if not receipts:
        recoverer.release(state, session, out)
        store.forget(session, pid, handle)
        log.warning("released request %s of %s: its transaction never ran", handle, pid)
        return None
    last = receipts[-1]
    if last["status"] != 1 and not recoverer.judges_itself:
        recoverer.release(state, session, out)
        error = revert_to_api_error(
            TransactionReverted(
                replay_revert(state.chain().w3, state.chain().decoder, last),
                last["transactionHash"].to_0x_hex(),
            )
        )
        answer = store.StoredAnswer(error.status, error_envelope(error.code, error.message, error.details))
    else:
        result = recoverer.finish(state, session, last, out)
        answer = store.StoredAnswer(success, result.model_dump(mode="json"))
    store.complete(session, pid, handle, answer)
    log.warning("recovered request %s of %s from the chain: %s", handle, pid, answer.status)
    return answer


def recover_abandoned(state: AppState) -> int:
    """On start: recover every ``in_progress`` record nobody runs any more. The number recovered."""
    done = 0
    with Session(state.engine) as session:
        records = session.exec(
            select(IdempotencyRecord).where(col(IdempotencyRecord.state) == "in_progress")
        ).all()
        now = datetime.now(UTC)
        abandoned = [(r.participant_id, r.key) for r in records if store.abandoned(r, now)]
        for pid, handle in abandoned:
            session.expire_all()
            current = session.get(IdempotencyRecord, (pid, handle))
            if current is None or current.state != "in_progress":  # a retry got there first
                continue
            try:
                recover_request(state, session, current)
                done += 1
            except ApiError as exc:  # still pending at the node: the client's retry finishes it
                log.warning("request %s not recovered yet: %s", handle, exc.message)
    return done


def on_start(state: AppState) -> None:
    """A starting gateway finishes what the last run left open; the node may be down (then the
    retries of the clients, and the next start, do it)."""
    try:
        chainwatch.check(state.chain().w3, state.engine, force=True)
        recovered = recover_abandoned(state)
    except Exception:  # the node or the database is not there yet: not a reason not to start
        log.warning("start-up recovery skipped", exc_info=True)
        return
    if recovered:
        log.warning("start-up recovery: %d interrupted request(s) finished from the chain", recovered)
