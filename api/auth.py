"""Authentication: every call carries ``Authorization: Bearer <API key>``.

- The **platform operator** uses the operator key from settings (``SCF_OPERATOR_API_KEY``; locally
  generated once into ``data/operator_api_key.secret``).
- **Participants** get their key once, in the answer to their onboarding; the gateway keeps only
  its SHA-256. A suspended participant's key is refused, except on the routes that settle existing
  debts (repay, redeem; ``require(..., settling=True)``): suspension stops new obligations and new
  transfers, never the payment of what is already owed.

Authorization is explicit per route (``require(...)``) and per object in the routers.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header

from api.deps import SessionDep, StateDep
from api.errors import ApiError
from api.models import Participant
from api.services.api_keys import participant_by_api_key
from domain.roles import Role


@dataclass(frozen=True)
class Principal:
    role: Role
    participant: Participant | None

    @property
    def member(self) -> Participant:
        """The calling participant (routes for participant roles only; the operator is none)."""
        if self.participant is None:
            raise ApiError(403, "NOT_A_PARTICIPANT", "The operator acts through its own endpoints.")
        return self.participant

    @property
    def participant_id(self) -> str:
        return self.participant.id if self.participant is not None else "operator"


def _authenticate(
    state: StateDep, session: SessionDep, authorization: str | None, *, allow_suspended: bool
) -> Principal:
    if not authorization or not authorization.startswith("Bearer "):
        raise ApiError(401, "UNAUTHENTICATED", "Send your API key as `Authorization: Bearer <key>`.")
    key = authorization.removeprefix("Bearer ").strip()
    if hmac.compare_digest(key.encode(), state.settings.effective_operator_api_key.encode()):
        return Principal(Role.OPERATOR, None)
    participant = participant_by_api_key(session, key)
    if participant is None:
        raise ApiError(401, "UNAUTHENTICATED", "The API key is not valid.")
    if participant.status != "active" and not (allow_suspended and participant.status == "suspended"):
        raise ApiError(403, "PARTICIPANT_SUSPENDED", "This participant is suspended.")
    return Principal(Role(participant.role), participant)


def current_principal(
    state: StateDep,
    session: SessionDep,
    authorization: Annotated[str | None, Header(description="`Bearer <API key>`")] = None,
) -> Principal:
    """The caller; a suspended participant is refused (403 ``PARTICIPANT_SUSPENDED``)."""
    return _authenticate(state, session, authorization, allow_suspended=False)


def settling_principal(
    state: StateDep,
    session: SessionDep,
    authorization: Annotated[str | None, Header(description="`Bearer <API key>`")] = None,
) -> Principal:
    """The caller of a route that settles an existing debt: suspended participants pass too."""
    return _authenticate(state, session, authorization, allow_suspended=True)


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def optional_principal(
    state: StateDep,
    session: SessionDep,
    authorization: Annotated[str | None, Header(description="`Bearer <API key>` (optional)")] = None,
) -> Principal | None:
    """The caller of a public route, or None without an ``Authorization`` header (a key that is sent
    must be valid: 401 otherwise)."""
    if authorization is None:
        return None
    return _authenticate(state, session, authorization, allow_suspended=True)


OptionalPrincipalDep = Annotated[Principal | None, Depends(optional_principal)]


def require(*roles: Role, settling: bool = False) -> object:
    """A dependency that lets only ``roles`` through (403 ``FORBIDDEN_ROLE`` otherwise). With
    ``settling`` (repay, redeem) a suspended participant of those roles is let through as well."""
    authenticate = settling_principal if settling else current_principal

    def check(principal: Principal = Depends(authenticate)) -> Principal:  # noqa: B008 (a closure)
        if principal.role not in roles:
            allowed = ", ".join(r.value for r in roles)
            raise ApiError(403, "FORBIDDEN_ROLE", f"This action is for: {allowed}.")
        return principal

    return Depends(check)
