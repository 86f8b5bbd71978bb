"""Discount offers: a financier offers, a holder accepts (delivery versus payment on chain)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pydantic import BaseModel
from sqlmodel import Session
from web3.types import TxReceipt

from api.errors import ApiError
from api.models import Participant
from api.schemas.lifecycle import AcceptIn, OfferIn, QuoteOut, TxOut
from api.services import recovery
from api.services.currencies import check_currency
from api.services.lifecycle import act, act_with_receipt, tx_out
from api.state import AppState
from chain.client import Sender
from chain.contracts import STALE_PERMIT_ERROR
from domain.maths import NotDiscountable, discount_price

ZERO_ADDRESS = "0x" + "00" * 20


@contextmanager
def permit_race_retryable() -> Iterator[None]:
    """A permit that lost the race for the account's permit nonce twice (another gateway process sent
    one at the same moment; the chain client already retried once) is 409 ``PERMIT_CONFLICT``: nothing
    was applied, and the same request may simply be sent again."""
    try:
        yield
    except ApiError as exc:
        if not (isinstance(exc.details, dict) and exc.details.get("error") == STALE_PERMIT_ERROR):
            raise
        raise ApiError(
            409,
            "PERMIT_CONFLICT",
            "Another transaction of this account used its permit nonce at the same time; nothing was "
            "applied. Send the request again.",
            exc.details,
        ) from exc


def make_offer(state: AppState, session: Session, financier: Participant, body: OfferIn) -> TxOut:
    """Make the offer and raise the financier's allowance for the market by its amount, in one
    transaction (an EIP-2612 permit signed with the custodial key, applied with the offer): an offer the
    chain refuses leaves the allowance as it was. No escrow: the price is paid when a holder accepts."""
    platform = state.chain().platform
    token = platform.token_at(platform.ledger.receivable(body.receivable_id).token)
    check_currency(state, token.address, body.currency)
    offer_id = 0

    def action(s: Sender) -> TxReceipt:
        nonlocal offer_id
        offer_id, receipt = platform.market.make_offer_with_permit(
            s, token, body.receivable_id, body.max_amount, body.rate_bps, body.expiry
        )
        return receipt

    with permit_race_retryable():
        out = act(state, session, financier, action, kind="make_offer", receivable_id=body.receivable_id)
    out.offer_id = offer_id
    return out


def cancel_offer(state: AppState, session: Session, financier: Participant, offer_id: int) -> TxOut:
    """Cancel what is unfilled of the financier's own offer (404 for anyone else's)."""
    market = state.chain().platform.market
    if market.offer(offer_id).maker != financier.chain_address:
        raise ApiError(404, "OFFER_NOT_FOUND", f"No offer {offer_id} of yours.")
    return act(state, session, financier, lambda s: market.cancel_offer(s, offer_id), offer_id=offer_id)


def accept_offer(
    state: AppState, session: Session, holder: Participant, offer_id: int, body: AcceptIn
) -> TxOut:
    """Sell ``body.amount`` units to the offer's financier; ``amount`` in the answer is the price paid."""
    market = state.chain().platform.market
    offer = market.offer(offer_id)
    if offer.maker == ZERO_ADDRESS:
        raise ApiError(404, "OFFER_NOT_FOUND", f"No offer {offer_id}.")
    out, receipt = act_with_receipt(
        state,
        session,
        holder,
        lambda s: market.accept_offer(s, offer_id, body.amount, body.min_price),
        kind="accept_offer",
        offer_id=offer_id,
        receivable_id=offer.receivable_id,
    )
    out.amount = _price(state, receipt)
    return out


def quote(state: AppState, caller: Participant, offer_id: int, amount: int) -> QuoteOut:
    """The price of selling ``amount`` units to an offer now: what the units still claim (``amount`` x
    outstanding / face, rounded down, as ``acceptOffer`` reads it) discounted by ``domain.maths.
    discount_price``, the mirror of the contract's ``quote`` (tests hold the two equal). Only the offer's
    maker and holders of its receivable see it (404 for everyone else, as for an offer that does not
    exist); one that can no longer be accepted for ``amount`` is 409, as ``acceptOffer`` would revert."""
    platform = state.chain().platform
    offer = platform.market.offer(offer_id)
    mine = offer.maker.lower() == caller.chain_address.lower()
    if offer.maker == ZERO_ADDRESS or not (
        mine or platform.ledger.balance_of(caller.chain_address, offer.receivable_id) > 0
    ):
        raise ApiError(404, "OFFER_NOT_FOUND", f"No offer {offer_id} on a receivable of yours.")
    receivable = platform.ledger.receivable(offer.receivable_id)
    due = receivable.due_date
    now = state.chain_now()
    if offer.cancelled:
        raise ApiError(409, "OFFER_CANCELLED", f"Offer {offer_id} was cancelled by its financier.")
    if offer.expiry < now:
        raise ApiError(409, "OFFER_EXPIRED", f"Offer {offer_id} expired.")
    if amount > offer.max_amount - offer.filled:
        left = offer.max_amount - offer.filled
        message = f"Offer {offer_id} buys at most {left} more (minor units)."
        raise ApiError(409, "OFFER_EXCEEDED", message, {"unfilled": left})
    # what the units still claim after repayments and credit notes, as the contract's _priceOf reads it
    face = receivable.face_value
    claim = amount * (face - receivable.diluted - receivable.repaid) // face if face else 0
    try:
        price, days = discount_price(claim, offer.rate_bps, due, now)
    except NotDiscountable as exc:
        raise ApiError(409, "NOT_DISCOUNTABLE", f"This offer can no longer be accepted: {exc}.") from exc
    if price == 0:
        raise ApiError(
            409, "ZERO_PRICE", f"Selling {amount} (minor units) to offer {offer_id} would pay nothing."
        )
    return QuoteOut(
        offer_id=offer_id,
        receivable_id=offer.receivable_id,
        amount_minor=amount,
        claim_minor=claim,
        price_minor=price,
        discount_minor=claim - price,
        rate_bps=offer.rate_bps,
        days_to_maturity=days,
        as_of=now,
    )


def _price(state: AppState, receipt: TxReceipt) -> int | None:
    fills = state.chain().platform.market.events(receipt, "OfferFilled")
    return int(fills[0]["price"]) if fills else None


# how an interrupted request is answered from its receipt (``api.services.recovery``)
def _finish_make(state: AppState, _s: Session, receipt: TxReceipt, out: dict[str, Any]) -> BaseModel:
    (made,) = state.chain().platform.market.events(receipt, "OfferMade")
    return tx_out(receipt, **out, offer_id=int(made["offerId"]))


def _finish_accept(state: AppState, _s: Session, receipt: TxReceipt, out: dict[str, Any]) -> BaseModel:
    return tx_out(receipt, **{**out, "amount": _price(state, receipt)})


recovery.register("make_offer", recovery.Recoverer(finish=_finish_make))
recovery.register("accept_offer", recovery.Recoverer(finish=_finish_accept))
