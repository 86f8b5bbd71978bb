"""The transaction journal: every transaction the gateway signs is written down before it is sent.

A crash between sending and recording, a receipt that never came, or blocks the node lost later leave
one question open: did that transaction run? The journal keeps its hash, sender and nonce (and which
idempotent request sent it), so the answer is looked up on the chain by hash
(``api.services.recovery``). ``api.nonces.DbNonceSender`` writes it; ``api.idempotency`` opens the
``request_scope`` that ties a transaction to the request that sent it.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from api.models import IdempotencyRecord, TxJournal

#: this process, as an idempotency record's ``owner`` names it
OWNER = f"{socket.gethostname()}:{os.getpid()}"

SENT, UNSENT, MINED, VANISHED = "sent", "unsent", "mined", "vanished"


@dataclass(frozen=True)
class Scope:
    """The idempotent request on whose behalf transactions are being sent."""

    engine: Engine
    participant_id: str
    key: str


_scope: ContextVar[Scope | None] = ContextVar("scf_tx_scope", default=None)


@contextmanager
def request_scope(engine: Engine, participant_id: str, key: str) -> Iterator[Scope]:
    """Transactions sent inside are journaled as the request ``(participant_id, key)``'s."""
    scope = Scope(engine, participant_id, key)
    token = _scope.set(scope)
    try:
        yield scope
    finally:
        _scope.reset(token)


@contextmanager
def outside_request() -> Iterator[None]:
    """Transactions sent inside belong to no request (a filler of a nonce hole sent while a request
    waits): they are journaled, but never taken for the request's own."""
    token = _scope.set(None)
    try:
        yield
    finally:
        _scope.reset(token)


def describe(kind: str, **out: Any) -> None:
    """Note, before sending, how the current request's answer is rebuilt from its receipt (``kind``
    names a recoverer of ``api.services.recovery``; ``out`` holds what is known already). Committed at
    once, in its own transaction: it must survive a crash that follows."""
    scope = _scope.get()
    if scope is None:
        return
    with Session(scope.engine) as s:
        s.exec(
            update(IdempotencyRecord)
            .where(col(IdempotencyRecord.participant_id) == scope.participant_id)
            .where(col(IdempotencyRecord.key) == scope.key)
            .values(recovery_json=json.dumps({"kind": kind, "out": out}))
        )
        s.commit()


def sent(engine: Engine, tx_hash: str, sender: str, nonce: int) -> None:
    """Record a signed transaction just before it goes to the node."""
    scope = _scope.get()
    row = TxJournal(
        tx_hash=tx_hash,
        sender=sender,
        nonce=nonce,
        participant_id=scope.participant_id if scope else None,
        idem_key=scope.key if scope else None,
        state=SENT,
    )
    # a transaction that never ran, sent again with its nonce given back, is the same transaction (same
    # nonce, same call, same signature), and so is a filler two threads sign for the same nonce: its row
    # starts over
    for attempt in range(2):
        with Session(engine) as s:
            s.merge(row)
            try:
                s.commit()
                return
            except IntegrityError:  # inserted by the other one in between: merge again, as an update
                if attempt:
                    raise


def mark(
    engine: Engine, tx_hash: str, state: str, block: int | None = None, block_hash: str | None = None
) -> None:
    """Move a journaled transaction to ``state`` (with the block it was mined in, if it was)."""
    with Session(engine) as s:
        s.exec(
            update(TxJournal)
            .where(col(TxJournal.tx_hash) == tx_hash)
            .values(state=state, block_number=block, block_hash=block_hash)
        )
        s.commit()


def of_request(session: Session, participant_id: str, key: str) -> list[TxJournal]:
    """The transactions a request sent, in the order it sent them."""
    query = (
        select(TxJournal)
        .where(col(TxJournal.participant_id) == participant_id)
        .where(col(TxJournal.idem_key) == key)
        .order_by(col(TxJournal.created_at), col(TxJournal.nonce))
    )
    return list(session.exec(query).all())


def may_have_run(session: Session, participant_id: str, key: str) -> bool:
    """Whether a transaction of the request may have reached the chain (sent or mined)."""
    return any(e.state in (SENT, MINED) for e in of_request(session, participant_id, key))


def in_flight() -> bool:
    """Whether a transaction of the current request may have reached the chain (``False`` outside a
    request scope: nothing is journaled for it)."""
    scope = _scope.get()
    if scope is None:
        return False
    with Session(scope.engine) as s:
        return may_have_run(s, scope.participant_id, scope.key)
