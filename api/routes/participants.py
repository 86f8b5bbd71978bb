"""Participants: onboarding (certificate + chain registration), suspension, certificate revocation."""

from __future__ import annotations

import uuid
from typing import Annotated

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi import APIRouter, Query
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete, func, select

from api.auth import Principal, PrincipalDep, new_api_key, require
from api.deps import SessionDep, StateDep
from api.errors import ApiError, error_responses
from api.models import CertificateRevocation, ChainAccount, Participant, PartyIdentifier
from api.schemas.common import Page
from api.schemas.participants import (
    ApiKeyOut,
    OnboardRequest,
    OnboardResponse,
    ParticipantOut,
    PartyIdentifierIn,
    RevokeRequest,
)
from api.services.accounts import fund, new_custodial_account
from api.services.txerrors import on_chain
from domain.documents.model import PartyRef
from domain.identity import (
    CertificateProfileError,
    ParticipantIdentity,
    identity_record_hash,
)
from domain.roles import Role

router = APIRouter(prefix="/participants", tags=["participants"])
ERRORS = error_responses(401, 403, 404, 409, 422, 503)
Operator = Annotated[Principal, require(Role.OPERATOR)]
OperatorOrRegulator = Annotated[Principal, require(Role.OPERATOR, Role.REGULATOR)]


def participant_out(session: Session, p: Participant) -> ParticipantOut:
    ids = session.exec(select(PartyIdentifier).where(PartyIdentifier.participant_id == p.id)).all()
    return ParticipantOut(
        id=p.id,
        custodial=session.get(ChainAccount, p.id) is not None,
        legal_name=p.legal_name,
        registration_id=p.registration_id,
        role=Role(p.role),
        chain_address=p.chain_address,
        status=p.status,
        certificate_serial=p.certificate_serial,
        identity_hash=p.identity_hash,
        party_identifiers=[PartyIdentifierIn(scheme=i.scheme, id=i.value) for i in ids],
        created_at=p.created_at,
    )


def get_participant(session: Session, participant_id: str) -> Participant:
    p = session.get(Participant, participant_id)
    if p is None:
        raise ApiError(404, "PARTICIPANT_NOT_FOUND", f"No participant {participant_id}.")
    return p


@router.post("", status_code=201, response_model=OnboardResponse, responses=ERRORS)
def onboard(body: OnboardRequest, _: Operator, state: StateDep, session: SessionDep) -> OnboardResponse:
    """Onboard a participant (operator only): issue its signing certificate, register its chain
    address with its role on the ledger, and return its API key (once)."""
    from web3 import Web3

    participant_id = str(uuid.uuid4())
    custodial = None
    if body.chain_address is None:  # the gateway keeps a sealed key and acts for the participant
        custodial = new_custodial_account(state, participant_id)
        address = custodial.address
    else:
        address = Web3.to_checksum_address(body.chain_address)
    conflicts = []
    if session.exec(select(Participant).where(Participant.registration_id == body.registration_id)).first():
        conflicts.append("registration_id")
    if session.exec(select(Participant).where(Participant.chain_address == address)).first():
        conflicts.append("chain_address")
    try:
        refs = list(dict.fromkeys(PartyRef(pid.scheme, pid.id) for pid in body.party_identifiers))
    except ValueError as exc:
        raise ApiError(422, "PARTY_IDENTIFIER_INVALID", str(exc)) from exc
    for ref in refs:  # stored normalized, as the document parser normalizes them
        taken = select(PartyIdentifier).where(
            PartyIdentifier.scheme == ref.scheme, PartyIdentifier.value == ref.id
        )
        if session.exec(taken).first():
            conflicts.append(f"party_identifier {ref.key}")
    if conflicts:
        raise ApiError(409, "PARTICIPANT_EXISTS", f"Already registered: {', '.join(conflicts)}.", conflicts)
    if (body.signing_key_pem is None) == (body.csr_pem is None):
        raise ApiError(422, "SIGNING_KEY_REQUIRED", "Give exactly one of `signing_key_pem` or `csr_pem`.")

    try:
        identity = ParticipantIdentity(body.legal_name, body.registration_id, body.role, address)
    except ValueError as exc:
        raise ApiError(422, "IDENTITY_INVALID", str(exc)) from exc
    ca = state.ca()
    try:
        if body.csr_pem is not None:
            cert = ca.issue_certificate_from_csr(body.csr_pem.encode(), identity)
        else:
            assert body.signing_key_pem is not None  # exactly one of the two was checked above
            key = serialization.load_pem_public_key(body.signing_key_pem.encode())
            if not isinstance(key, ec.EllipticCurvePublicKey):
                raise ApiError(
                    422, "SIGNING_KEY_INVALID", "The signing key must be an ECDSA P-256 public key."
                )
            cert = ca.issue_certificate(key, identity)
    except (CertificateProfileError, ValueError) as exc:
        raise ApiError(422, "SIGNING_KEY_INVALID", str(exc)) from exc

    identity_hash = identity_record_hash(identity, cert)
    api_key, api_key_hash = new_api_key()
    participant = Participant(
        id=participant_id,
        legal_name=identity.legal_name,
        registration_id=identity.registration_id,
        role=body.role.value,
        chain_address=address,
        certificate_pem=cert.public_bytes(serialization.Encoding.PEM).decode(),
        certificate_serial=str(cert.serial_number),
        identity_hash="0x" + identity_hash.hex(),
        api_key_hash=api_key_hash,
    )
    participant.status = "pending"  # not usable until the chain has it
    session.add(participant)
    try:
        session.flush()  # the participant row first: the rows below refer to it
    except IntegrityError as exc:
        session.rollback()
        raise ApiError(409, "PARTICIPANT_EXISTS", "Registration id or address taken.") from exc
    for ref in refs:
        session.add(PartyIdentifier(participant_id=participant.id, scheme=ref.scheme, value=ref.id))
    if custodial is not None:
        session.add(custodial)
    try:
        session.commit()  # unique constraints are checked before anything goes on chain
    except IntegrityError as exc:
        session.rollback()
        raise ApiError(
            409, "PARTICIPANT_EXISTS", "Registration id, address or party identifier taken."
        ) from exc

    chain = state.chain()
    try:
        receipt = on_chain(
            lambda: chain.platform.registry.onboard(chain.operator, address, body.role, identity_hash)
        )
        if custodial is not None:
            on_chain(lambda: fund(state, address))
    except BaseException:
        _forget_participant(session, participant.id)
        raise
    participant.onboard_tx = receipt["transactionHash"].to_0x_hex()
    participant.status = "active"
    session.add(participant)
    session.commit()
    session.refresh(participant)
    return OnboardResponse(
        participant=participant_out(session, participant),
        api_key=api_key,
        certificate_pem=participant.certificate_pem,
        ca_certificate_pem=ca.certificate_pem.decode(),
        tx_hash=participant.onboard_tx,
    )


def _forget_participant(session: Session, participant_id: str) -> None:
    """Undo a pending onboarding whose chain registration failed."""
    session.rollback()
    for model in (ChainAccount, PartyIdentifier):
        session.exec(delete(model).where(col(model.participant_id) == participant_id))
    session.exec(delete(Participant).where(col(Participant.id) == participant_id))
    session.commit()


@router.get("", response_model=Page[ParticipantOut], responses=ERRORS)
def list_participants(
    _: OperatorOrRegulator,
    session: SessionDep,
    role: Role | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[ParticipantOut]:
    """All participants (operator and regulator)."""
    query = select(Participant)
    count = select(func.count()).select_from(Participant)
    if role is not None:
        query = query.where(Participant.role == role.value)
        count = count.where(Participant.role == role.value)
    rows = session.exec(query.order_by(col(Participant.created_at)).offset(offset).limit(limit)).all()
    return Page(
        items=[participant_out(session, p) for p in rows],
        total=session.exec(count).one(),
        limit=limit,
        offset=offset,
    )


@router.get("/me", response_model=ParticipantOut, responses=ERRORS)
def me(principal: PrincipalDep, session: SessionDep) -> ParticipantOut:
    """The calling participant."""
    if principal.participant is None:
        raise ApiError(404, "NOT_A_PARTICIPANT", "The operator is not a participant.")
    return participant_out(session, principal.participant)


@router.get("/{participant_id}", response_model=ParticipantOut, responses=ERRORS)
def read_participant(participant_id: str, principal: PrincipalDep, session: SessionDep) -> ParticipantOut:
    """One participant: operator and regulator see all; a participant sees itself."""
    if principal.role not in (Role.OPERATOR, Role.REGULATOR) and principal.participant_id != participant_id:
        raise ApiError(404, "PARTICIPANT_NOT_FOUND", f"No participant {participant_id}.")
    return participant_out(session, get_participant(session, participant_id))


def _set_status(participant_id: str, new: str, state: StateDep, session: SessionDep) -> ParticipantOut:
    p = get_participant(session, participant_id)
    expected = "active" if new == "suspended" else "suspended"
    if p.status != expected:
        raise ApiError(409, "PARTICIPANT_STATUS", f"The participant is {p.status}, not {expected}.")
    chain = state.chain()
    registry = chain.platform.registry
    action = registry.suspend if new == "suspended" else registry.reinstate
    on_chain(lambda: action(chain.operator, p.chain_address))
    p.status = new
    session.add(p)
    session.commit()
    session.refresh(p)
    return participant_out(session, p)


@router.post("/{participant_id}/suspend", response_model=ParticipantOut, responses=ERRORS)
def suspend(participant_id: str, _: Operator, state: StateDep, session: SessionDep) -> ParticipantOut:
    """Suspend a participant on chain and in the gateway: it can neither act nor receive value."""
    return _set_status(participant_id, "suspended", state, session)


@router.post("/{participant_id}/reinstate", response_model=ParticipantOut, responses=ERRORS)
def reinstate(participant_id: str, _: Operator, state: StateDep, session: SessionDep) -> ParticipantOut:
    """Reinstate a suspended participant."""
    return _set_status(participant_id, "active", state, session)


@router.post("/{participant_id}/certificate/revoke", response_model=ParticipantOut, responses=ERRORS)
def revoke_certificate(
    participant_id: str, body: RevokeRequest, _: Operator, session: SessionDep
) -> ParticipantOut:
    """Revoke the participant's signing certificate: its signatures are refused from now on."""
    p = get_participant(session, participant_id)
    if session.get(CertificateRevocation, p.certificate_serial) is not None:
        raise ApiError(409, "CERTIFICATE_ALREADY_REVOKED", "This certificate is already revoked.")
    session.add(
        CertificateRevocation(serial=p.certificate_serial, participant_id=p.id, reason=body.reason.value)
    )
    session.commit()
    return participant_out(session, p)


@router.post("/{participant_id}/api-key", response_model=ApiKeyOut, responses=ERRORS)
def rotate_api_key(participant_id: str, _: Operator, session: SessionDep) -> ApiKeyOut:
    """Issue a new API key for a participant (operator); the old one stops working at once.

    Onboarding shows the key only once and is not replayed by an Idempotency-Key (the gateway
    never stores a key in clear): a participant that lost it gets a new one here.
    """
    p = get_participant(session, participant_id)
    key, key_hash = new_api_key()
    p.api_key_hash = key_hash
    session.add(p)
    session.commit()
    return ApiKeyOut(participant_id=p.id, api_key=key)
