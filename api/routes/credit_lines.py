"""Credit lines of core enterprises, held on chain by the ledger."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from api.auth import GatewayRole, Principal, PrincipalDep, require
from api.deps import SessionDep, StateDep
from api.errors import ApiError, error_responses
from api.models import Participant
from api.schemas.credit_lines import CreditLineIn, CreditLineOut
from api.services.accounts import sender_for
from api.services.txerrors import on_chain

router = APIRouter(prefix="/credit-lines", tags=["credit lines"])
Granter = Annotated[Principal, require(GatewayRole.OPERATOR, GatewayRole.FINANCIER)]
ERRORS = error_responses(401, 403, 404, 409, 422, 503)


def _core(session: SessionDep, participant_id: str) -> Participant:
    p = session.get(Participant, participant_id)
    if p is None or p.role != GatewayRole.CORE_ENTERPRISE.value:
        raise ApiError(404, "CORE_ENTERPRISE_NOT_FOUND", f"No core enterprise {participant_id}.")
    return p


def _out(state: StateDep, p: Participant, tx_hash: str | None = None) -> CreditLineOut:
    limit, used = state.chain().platform.ledger.credit_line(p.chain_address)
    return CreditLineOut(
        participant_id=p.id,
        chain_address=p.chain_address,
        limit_minor=limit,
        used_minor=used,
        available_minor=max(limit - used, 0),
        tx_hash=tx_hash,
    )


@router.put("/{participant_id}", response_model=CreditLineOut, responses=ERRORS)
def set_credit_line(
    participant_id: str, body: CreditLineIn, principal: Granter, state: StateDep, session: SessionDep
) -> CreditLineOut:
    """Grant or change a core enterprise's credit line (operator, or a financier with its own
    account). It cannot go below the current usage (409 `CHAIN_CREDIT_LINE_BELOW_USAGE`)."""
    p = _core(session, participant_id)
    chain = state.chain()
    sender = (
        chain.operator if principal.participant is None else sender_for(state, session, principal.participant)
    )
    receipt = on_chain(
        lambda: chain.platform.ledger.set_credit_line(sender, p.chain_address, body.limit_minor)
    )
    return _out(state, p, receipt["transactionHash"].to_0x_hex())


@router.get("/{participant_id}", response_model=CreditLineOut, responses=ERRORS)
def read_credit_line(
    participant_id: str, principal: PrincipalDep, state: StateDep, session: SessionDep
) -> CreditLineOut:
    """A core enterprise's limit and usage: for itself, financiers, the operator and the regulator."""
    if principal.role in (GatewayRole.SUPPLIER, GatewayRole.LOGISTICS) or (
        principal.role == GatewayRole.CORE_ENTERPRISE and principal.participant_id != participant_id
    ):
        raise ApiError(404, "CORE_ENTERPRISE_NOT_FOUND", f"No core enterprise {participant_id}.")
    return _out(state, _core(session, participant_id))
