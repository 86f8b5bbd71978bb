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

from sqlalchemy import Engine, and_, delete, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from api.models import IdempotencyRecord, TxJournal, TxRequest

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
#: the requests a transaction sent now serves, when it serves several (``on_behalf_of``)
_shared: ContextVar[tuple[Scope, ...]] = ContextVar("scf_tx_shared", default=())


def current() -> Scope | None:
    """The request on whose behalf this thread sends now, if any."""
    return _scope.get()


@contextmanager
def on_behalf_of(scopes: list[Scope]) -> Iterator[None]:
    """Transactions sent inside serve these requests (those of several threads, sent by one of them): one
    request's are journaled as its own; several requests' as belonging to each (``TxRequest`` rows), so
    that each request's recovery, lost-block release and read-your-own-writes find them."""
    one = scopes[0] if len(scopes) == 1 else None
    token, shared = _scope.set(one), _shared.set(tuple(scopes) if len(scopes) > 1 else ())
    try:
        yield
    finally:
        _shared.reset(shared)
        _scope.reset(token)


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
        s.exec(_describing(scope, kind, out))
        s.commit()


def note(session: Session, kind: str, **out: Any) -> None:
    """``describe``, staged in ``session``'s open transaction instead of one of its own: for a service
    whose next commit (before anything is sent) writes its own rows too; one commit fewer."""
    scope = _scope.get()
    if scope is None:
        return
    session.exec(_describing(scope, kind, out))


def _describing(scope: Scope, kind: str, out: dict[str, Any]) -> Any:
    return (
        update(IdempotencyRecord)
        .where(col(IdempotencyRecord.participant_id) == scope.participant_id)
        .where(col(IdempotencyRecord.key) == scope.key)
        .values(recovery_json=json.dumps({"kind": kind, "out": out}))
    )


def sent(engine: Engine, tx_hash: str, sender: str, nonce: int) -> None:
    """Record a signed transaction just before it goes to the node."""
    scope, shared = _scope.get(), _shared.get()
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
            for served in shared:
                s.merge(TxRequest(tx_hash=tx_hash, participant_id=served.participant_id, idem_key=served.key))
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
        _mirror(s, tx_hash, block if state == MINED else None)
        s.commit()


def _mirror(session: Session, tx_hash: str, block: int | None) -> None:
    """The block of a shared transaction, on the rows of the requests it serves (``read_after``)."""
    session.exec(update(TxRequest).where(col(TxRequest.tx_hash) == tx_hash).values(block_number=block))


def mirror_blocks(session: Session, entries: list[TxJournal]) -> None:
    """After ``entries`` changed in ``session`` (a reconciliation): their blocks on their requests' rows."""
    for entry in entries:
        _mirror(session, entry.tx_hash, entry.block_number if entry.state == MINED else None)


def of_request(session: Session, participant_id: str, key: str) -> list[TxJournal]:
    """The transactions a request sent (its own, and those it shared with others), in the order they
    were sent."""
    shared = select(TxRequest.tx_hash).where(
        col(TxRequest.participant_id) == participant_id, col(TxRequest.idem_key) == key
    )
    query = (
        select(TxJournal)
        .where(
            or_(
                and_(col(TxJournal.participant_id) == participant_id, col(TxJournal.idem_key) == key),
                col(TxJournal.tx_hash).in_(shared),
            )
        )
        .order_by(col(TxJournal.created_at), col(TxJournal.nonce))
    )
    return list(session.exec(query).all())


def requests_of(session: Session, entries: list[TxJournal]) -> set[tuple[str, str]]:
    """The requests (participant, key) these transactions served."""
    served = {(e.participant_id, e.idem_key) for e in entries if e.participant_id and e.idem_key}
    hashes = [e.tx_hash for e in entries]
    if hashes:
        rows = session.exec(select(TxRequest).where(col(TxRequest.tx_hash).in_(hashes))).all()
        served |= {(r.participant_id, r.idem_key) for r in rows}
    return {(p, k) for p, k in served if p is not None and k is not None}


def unlink(engine: Engine, tx_hash: str) -> None:
    """The transaction did nothing (refused as a whole, the requests it served then sent on their own):
    no request counts it as its own any more."""
    with Session(engine) as s:
        s.exec(delete(TxRequest).where(col(TxRequest.tx_hash) == tx_hash))
        s.commit()


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
