"""The platform's settlement currencies: one settlement token per currency (ISO 4217), deployed by the plan.

Every amount the gateway takes or gives is in minor units of one currency. The currency of a receivable is
that of its settlement token (``SettlementToken.currency``); a request naming a currency the platform has
no token for is refused with ``CURRENCY_NOT_SETTLEABLE``, one naming another currency than the receivable's
with ``CURRENCY_MISMATCH``.
"""

from __future__ import annotations

from api.errors import ApiError
from api.schemas.lifecycle import CurrencyOut
from api.state import AppState
from chain.contracts import SettlementTokenClient
from domain.documents.money import currency_exponent


def settlement_token(state: AppState, currency: str) -> SettlementTokenClient:
    """The settlement token of ``currency``; 422 ``CURRENCY_NOT_SETTLEABLE`` when the platform has none."""
    tokens = state.chain().platform.tokens
    token = tokens.get(currency)
    if token is None:
        raise ApiError(
            422,
            "CURRENCY_NOT_SETTLEABLE",
            f"The platform has no settlement token in {currency}; it settles in {', '.join(sorted(tokens))}.",
        )
    return token


def currency_of(state: AppState, token: str) -> str:
    """The currency of the settlement token at ``token`` (a receivable's); "" for an address that is none of
    the platform's tokens (the gateway registers invoices in the platform's tokens only)."""
    return state.chain().platform.currency_at(token) or ""


def check_currency(state: AppState, token: str, currency: str | None) -> None:
    """422 ``CURRENCY_MISMATCH`` when a request names another ``currency`` than that of the receivable's
    settlement token at ``token`` (a request that names none is in the receivable's currency; the zero
    address, no receivable, is left to the chain's refusal)."""
    if currency is None or int(token, 16) == 0:  # no such receivable: the chain's refusal says so
        return
    actual = currency_of(state, token)
    if currency != actual:
        raise ApiError(
            422,
            "CURRENCY_MISMATCH",
            f"The receivable is in {actual or 'an unknown currency'}, not {currency}: its amounts are minor"
            f" units of {actual or 'its own currency'} and it settles only in that currency's token.",
        )


def currencies(state: AppState) -> list[CurrencyOut]:
    """The settlement currencies, each with its token and ISO 4217 minor unit."""
    return [
        CurrencyOut(currency=code, token=t.address, minor_unit=currency_exponent(code))
        for code, t in sorted(state.chain().platform.tokens.items())
    ]
