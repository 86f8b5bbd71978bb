"""Discount offers: financiers offer, holders accept (delivery versus payment on chain)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header
from fastapi.responses import JSONResponse
from web3.types import TxReceipt

from api.auth import Principal, require
from api.deps import SessionDep, StateDep
from api.errors import ApiError, error_responses
from api.schemas.lifecycle import AcceptIn, NoBody, OfferIn, TxOut
from api.services.idempotency import run_idempotent
from api.services.lifecycle import act, act_with_receipt
from chain.client import Sender
from domain.roles import Role

router = APIRouter(prefix="/offers", tags=["offers"])
ERRORS = error_responses(400, 401, 403, 404, 409, 422, 503)
IdemKey = Annotated[str | None, Header(alias="Idempotency-Key")]
Financier = Annotated[Principal, require(Role.FINANCIER)]
Holder = Annotated[Principal, require(Role.SUPPLIER, Role.FINANCIER, Role.CORE_ENTERPRISE)]


@router.post("", status_code=201, response_model=TxOut, responses=ERRORS)
def make_offer(
    body: OfferIn, principal: Financier, state: StateDep, session: SessionDep, key: IdemKey = None
) -> JSONResponse:
    """Offer to buy up to `max_amount` of a receivable at `rate_bps` p.a. until `expiry`.

    No escrow: the gateway raises the financier's settlement-token allowance for the market by the
    offer's amount, and the price is paid when a holder accepts.
    """
    me = principal.member

    def run() -> tuple[int, TxOut]:
        platform = state.chain().platform
        offer_id = 0

        def action(s: Sender) -> TxReceipt:
            nonlocal offer_id
            current = int(platform.token.call("allowance", s.address, platform.market.address))
            platform.token.approve(s, platform.market.address, current + body.max_amount)
            offer_id, receipt = platform.market.make_offer(
                s, body.receivable_id, body.max_amount, body.rate_bps, body.expiry
            )
            return receipt

        out = act(state, session, me, action, receivable_id=body.receivable_id)
        out.offer_id = offer_id
        return 201, out

    return run_idempotent(session, me.id, key, body, run)


@router.post("/{offer_id}/cancel", response_model=TxOut, responses=ERRORS)
def cancel_offer(
    offer_id: int, principal: Financier, state: StateDep, session: SessionDep, key: IdemKey = None
) -> JSONResponse:
    """Cancel my offer (what is unfilled)."""
    me = principal.member

    def run() -> tuple[int, TxOut]:
        market = state.chain().platform.market
        if market.offer(offer_id).maker != me.chain_address:
            raise ApiError(404, "OFFER_NOT_FOUND", f"No offer {offer_id} of yours.")
        return 200, act(state, session, me, lambda s: market.cancel_offer(s, offer_id), offer_id=offer_id)

    return run_idempotent(session, me.id, key, NoBody(), run)


@router.post("/{offer_id}/accept", response_model=TxOut, responses=ERRORS)
def accept_offer(
    offer_id: int,
    body: AcceptIn,
    principal: Holder,
    state: StateDep,
    session: SessionDep,
    key: IdemKey = None,
) -> JSONResponse:
    """Sell `amount` of my holding to the offer's financier: price paid and units delivered atomically."""
    me = principal.member

    def run() -> tuple[int, TxOut]:
        market = state.chain().platform.market
        offer = market.offer(offer_id)
        if offer.maker == "0x" + "00" * 20:
            raise ApiError(404, "OFFER_NOT_FOUND", f"No offer {offer_id}.")
        out, receipt = act_with_receipt(
            state,
            session,
            me,
            lambda s: market.accept_offer(s, offer_id, body.amount),
            offer_id=offer_id,
            receivable_id=offer.receivable_id,
        )
        fills = market.events(receipt, "OfferFilled")
        out.amount = int(fills[0]["price"]) if fills else None
        return 200, out

    return run_idempotent(session, me.id, key, body, run)
