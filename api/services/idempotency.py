"""``Idempotency-Key`` storage for POSTs that send transactions (no HTTP here: ``api.idempotency``
is the FastAPI dependency that uses it).

The first request with a key runs; its answer (success or a client error) is stored and every
retry with the same key and the same body gets it again without running anything. The same key
with another body is refused (422). A retry while the first is still running gets 409. A
transient failure (5xx: node down) is not stored, so a retry may run again.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from api.errors import ApiError
from api.models import IdempotencyRecord

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


def claim(session: Session, participant_id: str, key: str, digest: str) -> StoredAnswer | None:
    """Mark ``key`` as running for this request; or return the answer stored for it earlier."""
    session.add(
        IdempotencyRecord(participant_id=participant_id, key=key, request_hash=digest, state="in_progress")
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
        raise ApiError(409, "IDEMPOTENCY_IN_PROGRESS", "A request with this key is still running.")
    return StoredAnswer(existing.status_code, json.loads(existing.response_json))


def complete(session: Session, participant_id: str, key: str, answer: StoredAnswer) -> None:
    """Store the final answer of the request that claimed ``key``."""
    stored = session.get(IdempotencyRecord, (participant_id, key))
    assert stored is not None
    stored.state = "done"
    stored.status_code = answer.status
    stored.response_json = json.dumps(answer.content)
    session.add(stored)
    session.commit()


def forget(session: Session, participant_id: str, key: str) -> None:
    """Drop the claim after a transient failure, so that a retry runs again."""
    session.rollback()
    stored = session.get(IdempotencyRecord, (participant_id, key))
    if stored is not None:
        session.delete(stored)
        session.commit()
