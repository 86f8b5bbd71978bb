"""Participants: onboarding (certificate + chain registration), suspension, certificate revocation."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.auth import Principal, PrincipalDep, require
from api.deps import PagingDep, SessionDep, StateDep
from api.errors import ApiError, error_responses
from api.schemas.common import Page
from api.schemas.participants import (
    ApiKeyOut,
    DirectoryEntry,
    OnboardRequest,
    OnboardResponse,
    ParticipantOut,
    RevokeRequest,
)
from api.services import participants
from domain.roles import OVERSEERS, Role

router = APIRouter(prefix="/participants", tags=["participants"])
ERRORS = error_responses(401, 403, 404, 409, 422, 503)
Operator = Annotated[Principal, require(Role.OPERATOR)]
OperatorOrRegulator = Annotated[Principal, require(Role.OPERATOR, Role.REGULATOR)]


@router.post("", status_code=201, response_model=OnboardResponse, responses=ERRORS)
def onboard(body: OnboardRequest, _: Operator, state: StateDep, session: SessionDep) -> OnboardResponse:
    """Onboard a participant (operator only): issue its signing certificate, register its chain
    address with its role on the ledger, and return its API key (once)."""
    return participants.onboard(state, session, body)


@router.get("", response_model=Page[ParticipantOut], responses=ERRORS)
def list_participants(
    _: OperatorOrRegulator,
    session: SessionDep,
    paging: PagingDep,
    role: Role | None = None,
) -> Page[ParticipantOut]:
    """All participants (operator and regulator)."""
    return participants.list_participants(session, role, paging.limit, paging.offset)


@router.get("/directory", response_model=Page[DirectoryEntry], responses=ERRORS)
def participant_directory(
    _: PrincipalDep,
    session: SessionDep,
    paging: PagingDep,
    role: Role | None = None,
    name: Annotated[
        str | None, Query(max_length=64, description="A part of the legal name, any case.")
    ] = None,
) -> Page[DirectoryEntry]:
    """Active members (suppliers, core enterprises, financiers, logistics) by name: whom to pay part of
    a receivable, whom to deal with. Name, role and participant id only; every member sees it."""
    return participants.directory(session, role, name, paging.limit, paging.offset)


@router.get("/me", response_model=ParticipantOut, responses=ERRORS)
def me(principal: PrincipalDep, session: SessionDep) -> ParticipantOut:
    """The calling participant."""
    if principal.participant is None:
        raise ApiError(404, "NOT_A_PARTICIPANT", "The operator is not a participant.")
    return participants.participant_out(session, principal.participant)


@router.get("/{participant_id}", response_model=ParticipantOut, responses=ERRORS)
def read_participant(participant_id: str, principal: PrincipalDep, session: SessionDep) -> ParticipantOut:
    """One participant: operator and regulator see all; a participant sees itself."""
    if principal.role not in OVERSEERS and principal.participant_id != participant_id:
        raise ApiError(404, "PARTICIPANT_NOT_FOUND", f"No participant {participant_id}.")
    return participants.participant_out(session, participants.get_participant(session, participant_id))


@router.post("/{participant_id}/suspend", response_model=ParticipantOut, responses=ERRORS)
def suspend(participant_id: str, _: Operator, state: StateDep, session: SessionDep) -> ParticipantOut:
    """Suspend a participant on chain and in the gateway: it can neither act nor receive value."""
    return participants.set_status(state, session, participant_id, "suspended")


@router.post("/{participant_id}/reinstate", response_model=ParticipantOut, responses=ERRORS)
def reinstate(participant_id: str, _: Operator, state: StateDep, session: SessionDep) -> ParticipantOut:
    """Reinstate a suspended participant."""
    return participants.set_status(state, session, participant_id, "active")


@router.post("/{participant_id}/certificate/revoke", response_model=ParticipantOut, responses=ERRORS)
def revoke_certificate(
    participant_id: str, body: RevokeRequest, _: Operator, session: SessionDep
) -> ParticipantOut:
    """Revoke the participant's signing certificate: its signatures are refused from now on."""
    return participants.revoke_certificate(session, participant_id, body.reason)


@router.post("/{participant_id}/api-key", response_model=ApiKeyOut, responses=ERRORS)
def rotate_api_key(participant_id: str, _: Operator, session: SessionDep) -> ApiKeyOut:
    """Issue a new API key for a participant (operator); the old one stops working at once.

    Onboarding shows the key only once and is not replayed by an Idempotency-Key (the gateway
    never stores a key in clear): a participant that lost it gets a new one here.
    """
    return participants.rotate_api_key(session, participant_id)
