"""Settlement tokens (tokenized bank deposits): issuers appointed by the operator mint up to their cap;
everyone sees its balance."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from api.auth import Principal, PrincipalDep, require
from api.deps import SessionDep, StateDep
from api.errors import ApiError, error_responses
from api.idempotency import IdempotencyDep
from api.schemas.lifecycle import BalanceOut, IssuerCapIn, IssuerOut, MintIn, TxOut
from api.services import settlement
from domain.roles import Role

router = APIRouter(prefix="/settlement", tags=["settlement"])
ERRORS = error_responses(400, 401, 403, 404, 409, 422, 503)
Financier = Annotated[Principal, require(Role.FINANCIER)]
Operator = Annotated[Principal, require(Role.OPERATOR)]
Viewer = Annotated[Principal, require(Role.OPERATOR, Role.REGULATOR, Role.FINANCIER)]


@router.post("/mint", response_model=TxOut, responses=ERRORS)
def mint(
    body: MintIn, principal: Financier, state: StateDep, session: SessionDep, idem: IdempotencyDep
) -> TxOut:
    """Mint settlement tokens to a participant's account (the bank books the deposit). Only a
    financier the operator appointed as issuer, within its cap (422 `CHAIN_ISSUER_CAP_EXCEEDED`)."""
    return idem.run(body, lambda: settlement.mint(state, session, principal.member, body))


@router.get("/balance", response_model=BalanceOut, responses=ERRORS)
def balance(principal: PrincipalDep, state: StateDep) -> BalanceOut:
    """My settlement-token balance."""
    if principal.participant is None:
        raise ApiError(404, "NOT_A_PARTICIPANT", "The operator holds no settlement tokens.")
    return settlement.balance(state, principal.participant)


@router.put("/issuers/{participant_id}", response_model=IssuerOut, responses=ERRORS)
def set_issuer_cap(
    participant_id: str, body: IssuerCapIn, _: Operator, state: StateDep, session: SessionDep
) -> IssuerOut:
    """Appoint a financier as issuer of settlement tokens, or change its cap (operator). The operator
    itself can never be an issuer."""
    return settlement.set_issuer_cap(state, session, participant_id, body.cap_minor)


@router.get("/issuers/{participant_id}", response_model=IssuerOut, responses=ERRORS)
def read_issuer(participant_id: str, principal: Viewer, state: StateDep, session: SessionDep) -> IssuerOut:
    """An issuer's cap and outstanding issuance (operator, regulator, the financier itself)."""
    if principal.role == Role.FINANCIER and principal.participant_id != participant_id:
        raise ApiError(404, "FINANCIER_NOT_FOUND", f"No financier {participant_id}.")
    return settlement.issuer(state, session, participant_id)
