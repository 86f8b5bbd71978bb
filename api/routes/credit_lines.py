"""Credit lines of core enterprises, held on chain by the ledger.

Each financier grants and changes only its own line to a core enterprise; the operator may cap the
sum (platform limit). Tokenization reserves credit against the capped sum (docs/contracts.md).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from api.auth import Principal, PrincipalDep, require
from api.deps import SessionDep, StateDep
from api.errors import ApiError, error_responses
from api.models import Participant
from api.schemas.credit_lines import CreditLineIn, CreditLineOut, PlatformLimitIn
from api.services.accounts import sender_for
from api.services.lifecycle import participant_in_role_or_404
from api.services.txerrors import on_chain
from domain.roles import Role

router = APIRouter(prefix="/credit-lines", tags=["credit lines"])
Financier = Annotated[Principal, require(Role.FINANCIER)]
Operator = Annotated[Principal, require(Role.OPERATOR)]
ERRORS = error_responses(401, 403, 404, 409, 422, 503)


def _core(session: SessionDep, participant_id: str) -> Participant:
    return participant_in_role_or_404(session, participant_id, Role.CORE_ENTERPRISE.value)


def _out(state: StateDep, p: Participant, principal: Principal, tx_hash: str | None = None) -> CreditLineOut:
    ledger = state.chain().platform.ledger
    limit, used = ledger.credit_line(p.chain_address)
    cap, granted = ledger.platform_limit(p.chain_address)
    mine = None
    if principal.role == Role.FINANCIER:
        mine = ledger.credit_line_of(p.chain_address, principal.member.chain_address)
    return CreditLineOut(
        participant_id=p.id,
        chain_address=p.chain_address,
        limit_minor=limit,
        used_minor=used,
        available_minor=max(limit - used, 0),
        granted_minor=granted,
        platform_cap_minor=cap,
        my_line_minor=mine,
        tx_hash=tx_hash,
    )


@router.put("/{participant_id}", response_model=CreditLineOut, responses=ERRORS)
def set_credit_line(
    participant_id: str, body: CreditLineIn, principal: Financier, state: StateDep, session: SessionDep
) -> CreditLineOut:
    """Set the calling financier's own line to a core enterprise (signed with its own account).
    Other financiers' lines are untouched; lowering below usage only stops new tokenizations."""
    p = _core(session, participant_id)
    sender = sender_for(state, session, principal.member)
    ledger = state.chain().platform.ledger
    receipt = on_chain(lambda: ledger.set_credit_line(sender, p.chain_address, body.limit_minor))
    return _out(state, p, principal, receipt["transactionHash"].to_0x_hex())


@router.put("/{participant_id}/platform-limit", response_model=CreditLineOut, responses=ERRORS)
def set_platform_limit(
    participant_id: str, body: PlatformLimitIn, principal: Operator, state: StateDep, session: SessionDep
) -> CreditLineOut:
    """Cap (or un-cap, with null) the sum of all financiers' lines to a core enterprise (operator)."""
    p = _core(session, participant_id)
    chain = state.chain()
    receipt = on_chain(
        lambda: chain.platform.ledger.set_platform_limit(chain.operator, p.chain_address, body.cap_minor)
    )
    return _out(state, p, principal, receipt["transactionHash"].to_0x_hex())


@router.get("/{participant_id}", response_model=CreditLineOut, responses=ERRORS)
def read_credit_line(
    participant_id: str, principal: PrincipalDep, state: StateDep, session: SessionDep
) -> CreditLineOut:
    """A core enterprise's limit and usage: for itself, financiers, the operator and the regulator."""
    if principal.role in (Role.SUPPLIER, Role.LOGISTICS) or (
        principal.role == Role.CORE_ENTERPRISE and principal.participant_id != participant_id
    ):
        raise ApiError(404, "CORE_ENTERPRISE_NOT_FOUND", f"No core enterprise {participant_id}.")
    return _out(state, _core(session, participant_id), principal)
