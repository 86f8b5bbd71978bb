"""The ``Idempotency-Key`` dependency of the POSTs that send transactions.

A route takes ``idem: IdempotencyDep`` and returns ``idem.run(body, lambda: service_call(...))``: the
result is the route's own return value, so its ``response_model`` and status code hold (and OpenAPI
stays true). A retry with the same key and body raises ``IdempotentReplay``, which ``api.handlers``
answers with the stored JSON and ``Idempotent-Replayed: true``. Storage rules: ``services.idempotency``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Annotated, TypeVar

from fastapi import Depends, Header, Request
from pydantic import BaseModel
from sqlmodel import Session

from api import chainwatch, journal
from api.auth import Principal, settling_principal
from api.deps import SessionDep, StateDep
from api.errors import ApiError, IdempotentReplay, error_envelope
from api.services import idempotency as store
from api.services.recovery import recover_request
from api.state import AppState

_R = TypeVar("_R", bound=BaseModel)


class Idempotency:
    """One request's idempotency scope: the caller, its key, the request's target (method and path)
    and the route's success status."""

    def __init__(
        self,
        state: AppState,
        session: Session,
        participant_id: str,
        key: str | None,
        target: str,
        status: int,
    ) -> None:
        self.state = state
        self.session = session
        self.participant_id = participant_id
        self.key = key
        self.target = target
        self.status = status

    def run(self, body: BaseModel, action: Callable[[], _R]) -> _R:
        """Run ``action`` once per key; store its answer (or its client error) for retries. An earlier
        run whose process died, or whose outcome was unknown, is first finished from the chain."""
        key = store.check_key(self.key)
        with journal.request_scope(self.state.engine, self.participant_id, key):
            self._claim(key, store.request_fingerprint(self.target, body))
            try:
                result = action()
            except ApiError as exc:
                if exc.status >= 500:
                    store.release(self.session, self.participant_id, key)
                    raise
                envelope = error_envelope(exc.code, exc.message, exc.details)
                store.complete(
                    self.session, self.participant_id, key, store.StoredAnswer(exc.status, envelope)
                )
                raise
            except BaseException:
                store.release(self.session, self.participant_id, key)
                raise
        answer = store.StoredAnswer(self.status, result.model_dump(mode="json"))
        store.complete(self.session, self.participant_id, key, answer)
        return result

    def _lost_blocks(self) -> bool:
        """Before a success is replayed: did the node lose blocks since (``api.chainwatch``)? A node that
        does not answer cannot say; the stored answer is replayed then."""
        try:
            return chainwatch.check(self.state.chain().w3, self.state.engine, force=True) is not None
        except Exception:
            return False

    def _claim(self, key: str, digest: str) -> None:
        lease = timedelta(seconds=self.state.settings.request_lease_seconds)
        for _ in range(3):
            found = store.claim(self.session, self.participant_id, key, digest, lease, self.status)
            if found is None:
                return
            if isinstance(found, store.StoredAnswer):
                if found.status < 300 and self._lost_blocks():
                    continue  # the answer may name what the node lost: claim again (it may be gone)
                raise IdempotentReplay(found.status, found.content)
            if not store.abandoned(found):
                raise store.still_running()
            answer = recover_request(self.state, self.session, found)
            if answer is not None:
                raise IdempotentReplay(answer.status, answer.content)
        raise store.still_running()


def get_idempotency(
    request: Request,
    state: StateDep,
    # the lighter of the two authentications: the route's own ``require(...)`` decides who may act
    principal: Annotated[Principal, Depends(settling_principal)],
    session: SessionDep,
    key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> Idempotency:
    route = request.scope.get("route")
    status = getattr(route, "status_code", None) or 200
    target = f"{request.method} {request.url.path}"
    return Idempotency(state, session, principal.participant_id, key, target, status)


IdempotencyDep = Annotated[Idempotency, Depends(get_idempotency)]
