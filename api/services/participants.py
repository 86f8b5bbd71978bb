"""Participants: onboarding (certificate, custodial key, database, chain registration, and the undo
when the chain refuses), listing, suspension, certificate revocation, API-key rotation."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import Certificate
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete, func, select
from web3 import Web3

from api.errors import ApiError
from api.models import CertificateRevocation, ChainAccount, Participant, PartyIdentifier
from api.schemas.common import Page
from api.schemas.participants import (
    ApiKeyOut,
    DirectoryEntry,
    OnboardRequest,
    OnboardResponse,
    ParticipantOut,
    PartyIdentifierOut,
)
from api.services.accounts import fund, new_custodial_account
from api.services.api_keys import new_api_key
from api.services.lifecycle import tx_hash
from api.services.pages import page
from api.services.txerrors import on_chain
from api.state import AppState
from domain.documents.model import PartyRef
from domain.identifiers import USCC_SCHEME, uscc_error
from domain.identity import (
    CertificateAuthority,
    CertificateProfileError,
    ParticipantIdentity,
    RevocationReason,
    identity_record_hash,
)
from domain.roles import Role


def revocation_check(session: Session) -> Callable[[int], bool]:
    """Whether a certificate serial is revoked, asked of ``certificate_revocation`` by key (participants'
    and devices' certificates alike): what the signature verifiers take as their ``revoked``."""
    return lambda serial: session.get(CertificateRevocation, str(serial)) is not None


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
        certificate_revoked=session.get(CertificateRevocation, p.certificate_serial) is not None,
        identity_hash=p.identity_hash,
        party_identifiers=[PartyIdentifierOut(scheme=i.scheme, id=i.value) for i in ids],
        created_at=p.created_at,
    )


def get_participant(session: Session, participant_id: str) -> Participant:
    p = session.get(Participant, participant_id)
    if p is None:
        raise ApiError(404, "PARTICIPANT_NOT_FOUND", f"No participant {participant_id}.")
    return p


def onboard(state: AppState, session: Session, body: OnboardRequest) -> OnboardResponse:
    """Issue the participant's signing certificate, store it (pending), register its address with its
    role on the ledger, then activate it; if the chain refuses, nothing of it stays behind."""
    participant_id = str(uuid.uuid4())
    custodial = None
    if body.chain_address is None:  # the gateway keeps a sealed key and acts for the participant
        custodial = new_custodial_account(state, participant_id)
        address = custodial.address
    else:
        address = Web3.to_checksum_address(body.chain_address)
    refs = _party_refs(body)
    _refuse_conflicts(session, body.registration_id, address, refs)
    try:
        identity = ParticipantIdentity(body.legal_name, body.registration_id, body.role, address)
    except ValueError as exc:
        raise ApiError(422, "IDENTITY_INVALID", str(exc)) from exc
    ca = state.ca()
    cert = _issue_certificate(ca, identity, body)
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
        status="pending",  # not usable until the chain has it
    )
    _store_pending(session, participant, refs, custodial)
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
    participant.onboard_tx = tx_hash(receipt)
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


def _party_refs(body: OnboardRequest) -> list[PartyRef]:
    """The party identifiers, normalized as the document parser normalizes them, without repeats.

    An identifier under a scheme the platform checks must be valid once normalized (upper case, no
    spaces, as documents are read): a unified social credit code (scheme ``USCC``) its length, characters
    and both check characters (``domain.identifiers``); 422 ``PARTY_IDENTIFIER_INVALID`` otherwise."""
    try:
        refs = list(dict.fromkeys(PartyRef(pid.scheme, pid.id) for pid in body.party_identifiers))
    except ValueError as exc:
        raise ApiError(422, "PARTY_IDENTIFIER_INVALID", str(exc)) from exc
    for ref in refs:
        problem = uscc_error(ref.id) if ref.scheme == USCC_SCHEME else None
        if problem is not None:
            raise ApiError(
                422,
                "PARTY_IDENTIFIER_INVALID",
                f"The party identifier {ref.scheme}:{ref.id!a} is no unified social credit code: {problem}",
                [{"scheme": ref.scheme, "id": ref.id, "problem": problem}],
            )
    return refs


def _refuse_conflicts(session: Session, registration_id: str, address: str, refs: list[PartyRef]) -> None:
    conflicts = []
    if session.exec(select(Participant).where(Participant.registration_id == registration_id)).first():
        conflicts.append("registration_id")
    if session.exec(select(Participant).where(Participant.chain_address == address)).first():
        conflicts.append("chain_address")
    for ref in refs:
        taken = select(PartyIdentifier).where(
            PartyIdentifier.scheme == ref.scheme, PartyIdentifier.value == ref.id
        )
        if session.exec(taken).first():
            conflicts.append(f"party_identifier {ref.key}")
    if conflicts:
        raise ApiError(409, "PARTICIPANT_EXISTS", f"Already registered: {', '.join(conflicts)}.", conflicts)


def _issue_certificate(
    ca: CertificateAuthority, identity: ParticipantIdentity, body: OnboardRequest
) -> Certificate:
    """The signing certificate, from a CSR or from a bare public key (exactly one of the two)."""
    if (body.signing_key_pem is None) == (body.csr_pem is None):
        raise ApiError(422, "SIGNING_KEY_REQUIRED", "Give exactly one of `signing_key_pem` or `csr_pem`.")
    try:
        if body.csr_pem is not None:
            return ca.issue_certificate_from_csr(body.csr_pem.encode(), identity)
        assert body.signing_key_pem is not None
        key = serialization.load_pem_public_key(body.signing_key_pem.encode())
        if not isinstance(key, ec.EllipticCurvePublicKey):
            raise ApiError(422, "SIGNING_KEY_INVALID", "The signing key must be an ECDSA P-256 public key.")
        return ca.issue_certificate(key, identity)
    except (CertificateProfileError, ValueError) as exc:
        raise ApiError(422, "SIGNING_KEY_INVALID", str(exc)) from exc


def _store_pending(
    session: Session, participant: Participant, refs: list[PartyRef], custodial: ChainAccount | None
) -> None:
    """Store the pending participant: unique constraints are checked before anything goes on chain."""
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
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise ApiError(
            409, "PARTICIPANT_EXISTS", "Registration id, address or party identifier taken."
        ) from exc


def _forget_participant(session: Session, participant_id: str) -> None:
    """Undo a pending onboarding whose chain registration failed."""
    session.rollback()
    for model in (ChainAccount, PartyIdentifier):
        session.exec(delete(model).where(col(model.participant_id) == participant_id))
    session.exec(delete(Participant).where(col(Participant.id) == participant_id))
    session.commit()


def list_participants(session: Session, role: Role | None, limit: int, offset: int) -> Page[ParticipantOut]:
    query = select(Participant)
    if role is not None:
        query = query.where(Participant.role == role.value)
    return page(
        session, query, col(Participant.created_at), limit, offset, lambda p: participant_out(session, p)
    )


#: roles a member may pay or deal with (the platform's own accounts are not listed)
DIRECTORY_ROLES = (Role.SUPPLIER, Role.CORE_ENTERPRISE, Role.FINANCIER, Role.LOGISTICS)


def directory(
    session: Session, role: Role | None, name: str | None, limit: int, offset: int
) -> Page[DirectoryEntry]:
    """Active members by name (``name``: a part of it, any case): id, name and role only."""
    roles = [r.value for r in DIRECTORY_ROLES if role is None or r == role]
    query = select(Participant).where(Participant.status == "active", col(Participant.role).in_(roles))
    if name:
        query = query.where(func.lower(Participant.legal_name).contains(name.lower(), autoescape=True))
    return page(
        session,
        query,
        col(Participant.legal_name),
        limit,
        offset,
        lambda p: DirectoryEntry(id=p.id, legal_name=p.legal_name, role=Role(p.role)),
    )


def set_status(state: AppState, session: Session, participant_id: str, new: str) -> ParticipantOut:
    """Suspend (``new="suspended"``) or reinstate (``"active"``) on chain, then in the gateway."""
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


def revoke_certificate(session: Session, participant_id: str, reason: RevocationReason) -> ParticipantOut:
    p = get_participant(session, participant_id)
    if session.get(CertificateRevocation, p.certificate_serial) is not None:
        raise ApiError(409, "CERTIFICATE_ALREADY_REVOKED", "This certificate is already revoked.")
    session.add(CertificateRevocation(serial=p.certificate_serial, participant_id=p.id, reason=reason.value))
    session.commit()
    return participant_out(session, p)


def rotate_api_key(session: Session, participant_id: str) -> ApiKeyOut:
    p = get_participant(session, participant_id)
    key, key_hash = new_api_key()
    p.api_key_hash = key_hash
    session.add(p)
    session.commit()
    return ApiKeyOut(participant_id=p.id, api_key=key)
