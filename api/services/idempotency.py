"""``Idempotency-Key`` storage for POSTs that send transactions (no HTTP here: ``api.idempotency``
is the FastAPI dependency that uses it).

The first request with a key runs; its answer (success or a client error) is stored and every
retry with the same key and the same body gets it again without running anything. The same key
with another body is refused (422). A retry while the first is still running gets 409. A
transient failure (5xx: node down) is not stored, so a retry may run again, unless a transaction of
the request may have reached the chain: then the record stays ``in_progress``, its lease ended, and
the retry learns the outcome from the chain (``api.services.recovery``). A record whose process died
(same host, pid gone) or whose lease ran out is recovered the same way.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from api import journal
from api.errors import ApiError
from api.models import IdempotencyRecord
from chain.node import pid_alive

MAX_KEY_LENGTH = 200


@dataclass(frozen=True)
class StoredAnswer:
    status: int
    content: Any


def request_fingerprint(target: str, body: BaseModel) -> str:
    """What a key is bound to: the method and path (``POST /offers/7/cancel``) and the body."""
    canonical = json.dumps([target, body.model_dump(mode="json")], sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def check_key(key: str | None) -> str:
    if not key:
        raise ApiError(400, "IDEMPOTENCY_KEY_REQUIRED", "Send an `Idempotency-Key` header with this request.")
    if len(key) > MAX_KEY_LENGTH:
        raise ApiError(
            400, "IDEMPOTENCY_KEY_INVALID", f"The `Idempotency-Key` is longer than {MAX_KEY_LENGTH}."
        )
    return key


def claim(
    session: Session, participant_id: str, key: str, digest: str, lease: timedelta, status: int
) -> StoredAnswer | IdempotencyRecord | None:
    """Mark ``key`` as running for this request (``None``; ``status`` is its answer's status if it
    succeeds); or return the answer stored for it earlier, or the record of an earlier run of it that
    is still ``in_progress`` (running, or abandoned)."""
    session.add(
        IdempotencyRecord(
            participant_id=participant_id,
            key=key,
            request_hash=digest,
            state="in_progress",
            status_code=status,
            owner=journal.OWNER,
            lease_until=datetime.now(UTC) + lease,
        )
    )
    try:
        session.commit()
        return None
    except IntegrityError:
        session.rollback()
    existing = session.get(IdempotencyRecord, (participant_id, key))
    if existing is None:  # removed after a transient failure in between: just ask to retry
        raise ApiError(409, "IDEMPOTENCY_IN_PROGRESS", "Retry this request.")
    if existing.request_hash != digest:
        raise ApiError(
            422, "IDEMPOTENCY_KEY_REUSED", "This Idempotency-Key was used with another request body."
        )
    if existing.state != "done" or existing.status_code is None or existing.response_json is None:
        return existing
    return StoredAnswer(existing.status_code, json.loads(existing.response_json))


def still_running() -> ApiError:
    return ApiError(409, "IDEMPOTENCY_IN_PROGRESS", "A request with this key is still running.")


def abandoned(record: IdempotencyRecord, now: datetime | None = None) -> bool:
    """Whether nobody runs this ``in_progress`` record any more: its lease ended, or its process (on
    this host) is gone."""
    now = now or datetime.now(UTC)
    lease = record.lease_until
    if lease is None:
        return True
    if lease.tzinfo is None:  # SQLite hands datetimes back naive: they were stored in UTC
        lease = lease.replace(tzinfo=UTC)
    if lease <= now:
        return True
    host, _, pid = (record.owner or "").rpartition(":")
    return (
        host == journal.OWNER.rpartition(":")[0]
        and pid.isdigit()
        and int(pid) != os.getpid()
        and not pid_alive(int(pid))
    )


def complete(session: Session, participant_id: str, key: str, answer: StoredAnswer) -> None:
    """Store the final answer of the request that claimed ``key`` (unless the claim is gone: the node lost
    the blocks of its transaction meanwhile, ``api.chainwatch``; the retry then runs again)."""
    session.expire_all()
    stored = session.get(IdempotencyRecord, (participant_id, key))
    if stored is None:
        return
    stored.state = "done"
    stored.status_code = answer.status
    stored.response_json = json.dumps(answer.content)
    session.add(stored)
    session.commit()


def forget(session: Session, participant_id: str, key: str) -> None:
    """Drop the claim after a failure that ran nothing, so that a retry runs again."""
    session.rollback()
    stored = session.get(IdempotencyRecord, (participant_id, key))
    if stored is not None:
        session.delete(stored)
        session.commit()


def release(session: Session, participant_id: str, key: str) -> None:
    """After a failure (a 5xx, a crash of the handler): drop the claim if nothing of the request can
    have reached the chain; otherwise end its lease, so that the retry learns the outcome from the chain."""
    session.rollback()
    if not journal.may_have_run(session, participant_id, key):
        forget(session, participant_id, key)
        return
    stored = session.get(IdempotencyRecord, (participant_id, key))
    if stored is not None:
        stored.lease_until = datetime.now(UTC)
        session.add(stored)
        session.commit()
