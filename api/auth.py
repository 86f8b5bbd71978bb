"""Authentication: every call carries ``Authorization: Bearer <API key>``, or the web portal's session
cookie (``scf_session``, made from the same key at sign-in: ``api.services.portal_sessions``).

- The **platform operator** uses the operator key from settings (``SCF_OPERATOR_API_KEY``; locally
  generated once into ``data/operator_api_key.secret``).
- **Participants** get their key once, in the answer to their onboarding; the gateway keeps only
  its SHA-256. A suspended participant's key is refused, except on the routes that settle existing
  debts (repay, redeem; ``require(..., settling=True)``): suspension stops new obligations and new
  transfers, never the payment of what is already owed.

Authorization is explicit per route (``require(...)``) and per object in the routers; a session is
authorized exactly as its key. A state-changing request with the cookie must also carry the session's
``X-CSRF-Token`` (403 ``CSRF_TOKEN_INVALID`` otherwise); with an ``Authorization`` header the cookie
is not looked at.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request

from api.deps import SessionDep, StateDep
from api.errors import ApiError
from api.models import Participant, PortalSession
from api.services.api_keys import participant_by_api_key
from api.services.portal_sessions import require_csrf, session_expired, session_of
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


#: the portal's session cookie (``api.routes.portal``)
SESSION_COOKIE = "scf_session"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _authenticate(
    request: Request,
    state: StateDep,
    session: SessionDep,
    authorization: str | None,
    *,
    allow_suspended: bool,
) -> Principal:
    cookie = request.cookies.get(SESSION_COOKIE) if authorization is None else None
    if cookie is not None:
        return _from_session(state, session, request, cookie, allow_suspended=allow_suspended)
    if not authorization or not authorization.startswith("Bearer "):
        raise ApiError(401, "UNAUTHENTICATED", "Send your API key as `Authorization: Bearer <key>`.")
    key = authorization.removeprefix("Bearer ").strip()
    if hmac.compare_digest(key.encode(), state.settings.effective_operator_api_key.encode()):
        return Principal(Role.OPERATOR, None)
    participant = participant_by_api_key(session, key)
    if participant is None:
        raise ApiError(401, "UNAUTHENTICATED", "The API key is not valid.")
    return _admitted(participant, allow_suspended=allow_suspended)


def _from_session(
    state: StateDep, session: SessionDep, request: Request, cookie: str, *, allow_suspended: bool
) -> Principal:
    row = session_of(state.settings, session, cookie)
    if request.method not in SAFE_METHODS:
        require_csrf(row, request.headers.get("X-CSRF-Token"))
    return _principal_of(session, row, allow_suspended=allow_suspended)


def _principal_of(session: SessionDep, row: PortalSession, *, allow_suspended: bool) -> Principal:
    """Who a live session is: the operator, or its participant as its key would be admitted."""
    if row.participant_id is None:
        return Principal(Role.OPERATOR, None)
    participant = session.get(Participant, row.participant_id)
    if participant is None:
        raise session_expired()
    return _admitted(participant, allow_suspended=allow_suspended)


def _admitted(participant: Participant, *, allow_suspended: bool) -> Principal:
    if participant.status != "active" and not (allow_suspended and participant.status == "suspended"):
        raise ApiError(403, "PARTICIPANT_SUSPENDED", "This participant is suspended.")
    return Principal(Role(participant.role), participant)


def current_principal(
    request: Request,
    state: StateDep,
    session: SessionDep,
    authorization: Annotated[str | None, Header(description="`Bearer <API key>`")] = None,
) -> Principal:
    """The caller; a suspended participant is refused (403 ``PARTICIPANT_SUSPENDED``)."""
    return _authenticate(request, state, session, authorization, allow_suspended=False)


def settling_principal(
    request: Request,
    state: StateDep,
    session: SessionDep,
    authorization: Annotated[str | None, Header(description="`Bearer <API key>`")] = None,
) -> Principal:
    """The caller of a route that settles an existing debt: suspended participants pass too."""
    return _authenticate(request, state, session, authorization, allow_suspended=True)


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def optional_principal(
    request: Request,
    state: StateDep,
    session: SessionDep,
    authorization: Annotated[str | None, Header(description="`Bearer <API key>` (optional)")] = None,
) -> Principal | None:
    """The caller of a public route, or None without an ``Authorization`` header or session cookie (a
    key or cookie that is sent must be valid: 401 otherwise)."""
    if authorization is None and SESSION_COOKIE not in request.cookies:
        return None
    return _authenticate(request, state, session, authorization, allow_suspended=True)


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


@dataclass(frozen=True)
class Viewer:
    """Who is looking at a portal page: the principal of its session, and the session's CSRF token
    (the page hands it to its scripts)."""

    principal: Principal
    csrf_token: str


def portal_viewer(request: Request, state: StateDep, session: SessionDep) -> Viewer | None:
    """The signed-in viewer of a portal page, or None (no cookie, or its session has ended). A suspended
    participant still sees its pages (it may repay and redeem); the API refuses its other actions."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie is None:
        return None
    try:
        row = session_of(state.settings, session, cookie)
        return Viewer(_principal_of(session, row, allow_suspended=True), row.csrf_token)
    except ApiError:
        return None


ViewerDep = Annotated[Viewer | None, Depends(portal_viewer)]
