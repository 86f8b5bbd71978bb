"""Settlement tokens (tokenized bank deposits): issuers appointed by the operator mint up to their cap;
everyone sees its balance."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header
from fastapi.responses import JSONResponse

from api.auth import Principal, PrincipalDep, require
from api.deps import SessionDep, StateDep
from api.errors import ApiError, error_responses
from api.models import Participant
from api.schemas.lifecycle import BalanceOut, IssuerCapIn, IssuerOut, MintIn, TxOut
from api.services.idempotency import run_idempotent
from api.services.lifecycle import act, participant_in_role_or_404, participant_or_404
from api.services.txerrors import on_chain
from domain.roles import Role

router = APIRouter(prefix="/settlement", tags=["settlement"])
ERRORS = error_responses(400, 401, 403, 404, 409, 422, 503)
Financier = Annotated[Principal, require(Role.FINANCIER)]
Operator = Annotated[Principal, require(Role.OPERATOR)]
Viewer = Annotated[Principal, require(Role.OPERATOR, Role.REGULATOR, Role.FINANCIER)]


@router.post("/mint", response_model=TxOut, responses=ERRORS)
def mint(
    body: MintIn,
    principal: Financier,
    state: StateDep,
    session: SessionDep,
    key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> JSONResponse:
    """Mint settlement tokens to a participant's account (the bank books the deposit). Only a
    financier the operator appointed as issuer, within its cap (422 `CHAIN_ISSUER_CAP_EXCEEDED`)."""
    me = principal.member

    def run() -> tuple[int, TxOut]:
        to = participant_or_404(session, body.to_participant_id)
        token = state.chain().platform.token
        return 200, act(
            state, session, me, lambda s: token.mint(s, to.chain_address, body.amount), amount=body.amount
        )

    return run_idempotent(session, me.id, key, body, run)


@router.get("/balance", response_model=BalanceOut, responses=ERRORS)
def balance(principal: PrincipalDep, state: StateDep) -> BalanceOut:
    """My settlement-token balance."""
    if principal.participant is None:
        raise ApiError(404, "NOT_A_PARTICIPANT", "The operator holds no settlement tokens.")
    p = principal.participant
    return BalanceOut(
        participant_id=p.id,
        chain_address=p.chain_address,
        settlement_balance_minor=state.chain().platform.token.balance_of(p.chain_address),
    )


def _financier(session: SessionDep, participant_id: str) -> Participant:
    return participant_in_role_or_404(session, participant_id, Role.FINANCIER.value)


def _issuer_out(state: StateDep, p: Participant, tx_hash: str | None = None) -> IssuerOut:
    cap, issued = state.chain().platform.token.issuer(p.chain_address)
    return IssuerOut(
        participant_id=p.id,
        chain_address=p.chain_address,
        cap_minor=cap,
        issued_minor=issued,
        tx_hash=tx_hash,
    )


@router.put("/issuers/{participant_id}", response_model=IssuerOut, responses=ERRORS)
def set_issuer_cap(
    participant_id: str, body: IssuerCapIn, principal: Operator, state: StateDep, session: SessionDep
) -> IssuerOut:
    """Appoint a financier as issuer of settlement tokens, or change its cap (operator). The operator
    itself can never be an issuer."""
    p = _financier(session, participant_id)
    chain = state.chain()
    receipt = on_chain(
        lambda: chain.platform.token.set_issuer_cap(chain.operator, p.chain_address, body.cap_minor)
    )
    return _issuer_out(state, p, receipt["transactionHash"].to_0x_hex())


@router.get("/issuers/{participant_id}", response_model=IssuerOut, responses=ERRORS)
def read_issuer(participant_id: str, principal: Viewer, state: StateDep, session: SessionDep) -> IssuerOut:
    """An issuer's cap and outstanding issuance (operator, regulator, the financier itself)."""
    if principal.role == Role.FINANCIER and principal.participant_id != participant_id:
        raise ApiError(404, "FINANCIER_NOT_FOUND", f"No financier {participant_id}.")
    return _issuer_out(state, _financier(session, participant_id))
