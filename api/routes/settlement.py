"""Settlement tokens (tokenized bank deposits): financier banks mint; everyone sees its balance."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header
from fastapi.responses import JSONResponse

from api.auth import GatewayRole, Principal, PrincipalDep, require
from api.deps import SessionDep, StateDep
from api.errors import ApiError, error_responses
from api.schemas.lifecycle import BalanceOut, MintIn, TxOut
from api.services.idempotency import run_idempotent
from api.services.lifecycle import act, participant_or_404

router = APIRouter(prefix="/settlement", tags=["settlement"])
ERRORS = error_responses(400, 401, 403, 404, 409, 422, 503)
Financier = Annotated[Principal, require(GatewayRole.FINANCIER)]


@router.post("/mint", response_model=TxOut, responses=ERRORS)
def mint(
    body: MintIn,
    principal: Financier,
    state: StateDep,
    session: SessionDep,
    key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> JSONResponse:
    """Mint settlement tokens to a participant's account (the bank books the deposit)."""
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
