"""Settlement tokens (tokenized bank deposits), one per currency: issuers appointed by the operator mint up
to their cap; everyone sees its balance in each currency."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from api.auth import Principal, PrincipalDep, require
from api.deps import CurrencyQuery, SessionDep, StateDep
from api.errors import ApiError, error_responses
from api.idempotency import IdempotencyDep
from api.schemas.lifecycle import BalanceOut, CurrencyOut, IssuerCapIn, IssuerOut, MintIn, TxOut
from api.services import currencies, settlement
from domain.roles import Role

router = APIRouter(prefix="/settlement", tags=["settlement"])
ERRORS = error_responses(400, 401, 403, 404, 409, 422, 503)
Financier = Annotated[Principal, require(Role.FINANCIER)]
Operator = Annotated[Principal, require(Role.OPERATOR)]
Viewer = Annotated[Principal, require(Role.OPERATOR, Role.REGULATOR, Role.FINANCIER)]


@router.get("/currencies", response_model=list[CurrencyOut], responses=ERRORS)
def list_currencies(_: PrincipalDep, state: StateDep) -> list[CurrencyOut]:
    """The platform's settlement currencies: an invoice is financeable in these only, and every amount of a
    receivable is in minor units of its currency (ISO 4217 minor unit given here)."""
    return currencies.currencies(state)


@router.post("/mint", response_model=TxOut, responses=ERRORS)
def mint(
    body: MintIn, principal: Financier, state: StateDep, session: SessionDep, idem: IdempotencyDep
) -> TxOut:
    """Mint settlement tokens to a participant's account (the bank books the deposit). Only a
    financier the operator appointed as issuer, within its cap (422 `CHAIN_ISSUER_CAP_EXCEEDED`)."""
    return idem.run(body, lambda: settlement.mint(state, session, principal.member, body))


@router.get("/balance", response_model=BalanceOut, responses=ERRORS)
def balance(principal: PrincipalDep, state: StateDep, currency: CurrencyQuery) -> BalanceOut:
    """My settlement-token balance in a currency."""
    if principal.participant is None:
        raise ApiError(404, "NOT_A_PARTICIPANT", "The operator holds no settlement tokens.")
    return settlement.balance(state, principal.participant, currency)


@router.put("/issuers/{participant_id}", response_model=IssuerOut, responses=ERRORS)
def set_issuer_cap(
    participant_id: str, body: IssuerCapIn, _: Operator, state: StateDep, session: SessionDep
) -> IssuerOut:
    """Appoint a financier as issuer of the settlement token of a currency, or change its cap there
    (operator). The operator itself can never be an issuer."""
    return settlement.set_issuer_cap(state, session, participant_id, body.currency, body.cap_minor)


@router.get("/issuers/{participant_id}", response_model=IssuerOut, responses=ERRORS)
def read_issuer(
    participant_id: str, principal: Viewer, state: StateDep, session: SessionDep, currency: CurrencyQuery
) -> IssuerOut:
    """An issuer's cap and outstanding issuance in a currency (operator, regulator, the financier itself)."""
    if principal.role == Role.FINANCIER and principal.participant_id != participant_id:
        raise ApiError(404, "FINANCIER_NOT_FOUND", f"No financier {participant_id}.")
    return settlement.issuer(state, session, participant_id, currency)
