"""``Idempotency-Key`` for POSTs that send transactions.

The first request with a key runs; its answer (success or a client error) is stored and every
retry with the same key and the same body gets it again without running anything. The same key
with another body is refused (422). A retry while the first is still running gets 409. A
transient failure (5xx: node down) is not stored, so a retry may run again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from api.errors import ApiError, ErrorBody, ErrorResponse
from api.models import IdempotencyRecord

MAX_KEY_LENGTH = 200


def request_fingerprint(body: BaseModel) -> str:
    return hashlib.sha256(json.dumps(body.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()


def run_idempotent(
    session: Session,
    participant_id: str,
    key: str | None,
    body: BaseModel,
    action: Callable[[], tuple[int, BaseModel]],
) -> JSONResponse:
    if not key:
        raise ApiError(400, "IDEMPOTENCY_KEY_REQUIRED", "Send an `Idempotency-Key` header with this request.")
    if len(key) > MAX_KEY_LENGTH:
        raise ApiError(
            400, "IDEMPOTENCY_KEY_INVALID", f"The `Idempotency-Key` is longer than {MAX_KEY_LENGTH}."
        )
    digest = request_fingerprint(body)
    record = IdempotencyRecord(
        participant_id=participant_id, key=key, request_hash=digest, state="in_progress"
    )
    session.add(record)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        existing = session.get(IdempotencyRecord, (participant_id, key))
        if existing is None:  # removed after a transient failure in between: just ask to retry
            raise ApiError(409, "IDEMPOTENCY_IN_PROGRESS", "Retry this request.") from None
        if existing.request_hash != digest:
            raise ApiError(
                422, "IDEMPOTENCY_KEY_REUSED", "This Idempotency-Key was used with another request body."
            ) from None
        if existing.state != "done" or existing.status_code is None or existing.response_json is None:
            raise ApiError(
                409, "IDEMPOTENCY_IN_PROGRESS", "A request with this key is still running."
            ) from None
        return JSONResponse(
            status_code=existing.status_code,
            content=json.loads(existing.response_json),
            headers={"Idempotent-Replayed": "true"},
        )
    try:
        status, result = action()
        content: Any = result.model_dump(mode="json")
    except ApiError as exc:
        if exc.status >= 500:
            _forget(session, participant_id, key)
            raise
        status = exc.status
        content = ErrorResponse(
            error=ErrorBody(code=exc.code, message=exc.message, details=exc.details)
        ).model_dump(mode="json")
    except BaseException:
        _forget(session, participant_id, key)
        raise
    stored = session.get(IdempotencyRecord, (participant_id, key))
    assert stored is not None
    stored.state = "done"
    stored.status_code = status
    stored.response_json = json.dumps(content)
    session.add(stored)
    session.commit()
    return JSONResponse(status_code=status, content=content)


def _forget(session: Session, participant_id: str, key: str) -> None:
    session.rollback()
    stored = session.get(IdempotencyRecord, (participant_id, key))
    if stored is not None:
        session.delete(stored)
        session.commit()
