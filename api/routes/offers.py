"""Discount offers: financiers offer, holders accept (delivery versus payment on chain)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.auth import Principal, require
from api.deps import IdPath, SessionDep, StateDep
from api.errors import error_responses
from api.idempotency import IdempotencyDep
from api.schemas.common import DB_INT_MAX
from api.schemas.lifecycle import AcceptIn, NoBody, OfferIn, QuoteOut, TxOut
from api.services import offers
from domain.roles import Role

router = APIRouter(prefix="/offers", tags=["offers"])
ERRORS = error_responses(400, 401, 403, 404, 409, 422, 503)
Financier = Annotated[Principal, require(Role.FINANCIER)]
Holder = Annotated[Principal, require(Role.SUPPLIER, Role.FINANCIER, Role.CORE_ENTERPRISE)]


@router.post("", status_code=201, response_model=TxOut, responses=ERRORS)
def make_offer(
    body: OfferIn, principal: Financier, state: StateDep, session: SessionDep, idem: IdempotencyDep
) -> TxOut:
    """Offer to buy up to `max_amount` of a receivable at `rate_bps` p.a. until `expiry`.

    No escrow: the gateway raises the financier's settlement-token allowance for the market by the
    offer's amount, and the price is paid when a holder accepts.
    """
    return idem.run(body, lambda: offers.make_offer(state, session, principal.member, body))


@router.post("/{offer_id}/cancel", response_model=TxOut, responses=ERRORS)
def cancel_offer(
    offer_id: IdPath, principal: Financier, state: StateDep, session: SessionDep, idem: IdempotencyDep
) -> TxOut:
    """Cancel my offer (what is unfilled)."""
    return idem.run(NoBody(), lambda: offers.cancel_offer(state, session, principal.member, offer_id))


@router.post("/{offer_id}/accept", response_model=TxOut, responses=ERRORS)
def accept_offer(
    offer_id: IdPath,
    body: AcceptIn,
    principal: Holder,
    state: StateDep,
    session: SessionDep,
    idem: IdempotencyDep,
) -> TxOut:
    """Sell `amount` of my holding to the offer's financier: price paid and units delivered atomically."""
    return idem.run(body, lambda: offers.accept_offer(state, session, principal.member, offer_id, body))


@router.get(
    "/{offer_id}/quote", response_model=QuoteOut, responses=error_responses(401, 403, 404, 409, 422, 503)
)
def quote_offer(
    offer_id: IdPath,
    principal: Holder,
    state: StateDep,
    amount: Annotated[int, Query(gt=0, le=DB_INT_MAX, description="Face value to sell, minor units.")],
) -> QuoteOut:
    """The price accepting `amount` of this offer pays, as of the latest block (its maker and the
    receivable's holders only)."""
    return offers.quote(state, principal.member, offer_id, amount)
