"""Credit lines of core enterprises, held on chain by the ledger per settlement currency.

Each financier grants and changes only its own line to a core enterprise in a currency; the operator may
cap the sum in a currency (platform limit). Tokenization reserves credit against the capped sum in the
invoice's currency (docs/contracts.md).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from api.auth import Principal, PrincipalDep, require
from api.deps import CurrencyQuery, SessionDep, StateDep
from api.errors import ApiError, error_responses
from api.schemas.credit_lines import CreditLineIn, CreditLineOut, PlatformLimitIn
from api.services import credit_lines
from domain.roles import OVERSEERS, Role

router = APIRouter(prefix="/credit-lines", tags=["credit lines"])
Financier = Annotated[Principal, require(Role.FINANCIER)]
Operator = Annotated[Principal, require(Role.OPERATOR)]
ERRORS = error_responses(401, 403, 404, 409, 422, 503)


@router.put("/{participant_id}", response_model=CreditLineOut, responses=ERRORS)
def set_credit_line(
    participant_id: str, body: CreditLineIn, principal: Financier, state: StateDep, session: SessionDep
) -> CreditLineOut:
    """Set the calling financier's own line to a core enterprise (signed with its own account).
    Other financiers' lines are untouched; lowering below usage only stops new tokenizations."""
    return credit_lines.set_credit_line(
        state, session, principal.member, participant_id, body.currency, body.limit_minor
    )


@router.put("/{participant_id}/platform-limit", response_model=CreditLineOut, responses=ERRORS)
def set_platform_limit(
    participant_id: str, body: PlatformLimitIn, _: Operator, state: StateDep, session: SessionDep
) -> CreditLineOut:
    """Cap (or un-cap, with null) the sum of all financiers' lines to a core enterprise (operator)."""
    return credit_lines.set_platform_limit(state, session, participant_id, body.currency, body.cap_minor)


@router.get("/{participant_id}", response_model=CreditLineOut, responses=ERRORS)
def read_credit_line(
    participant_id: str,
    principal: PrincipalDep,
    state: StateDep,
    session: SessionDep,
    currency: CurrencyQuery,
) -> CreditLineOut:
    """A core enterprise's limit and usage in a currency: for itself, financiers, the operator and the
    regulator."""
    # an allow-list: a role added later sees nothing until it is named here
    itself = principal.role == Role.CORE_ENTERPRISE and principal.participant_id == participant_id
    if not (itself or principal.role in (*OVERSEERS, Role.FINANCIER)):
        raise ApiError(404, "CORE_ENTERPRISE_NOT_FOUND", f"No core enterprise {participant_id}.")
    financier = principal.member if principal.role == Role.FINANCIER else None
    core = credit_lines.core_enterprise(session, participant_id)
    return credit_lines.credit_line(state, core, currency, financier)
