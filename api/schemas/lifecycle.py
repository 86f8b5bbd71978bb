from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from api.schemas.common import DB_INT_MAX, CurrencyCode, MultilineText, PlainText

Amount = Field(
    gt=0, lt=2**128, description="Minor units (ISO 4217) of the settlement currency concerned (integer)."
)


class TxOut(BaseModel):
    """A transaction the gateway sent and saw mined."""

    tx_hash: str
    block_number: int
    receivable_id: int | None = None
    offer_id: int | None = None
    receipt_id: int | None = Field(default=None, description="The warehouse receipt concerned.")
    loan_id: int | None = Field(default=None, description="The warehouse loan concerned.")
    alert_id: int | None = Field(default=None, description="The warehouse alert concerned.")
    amount: int | None = Field(
        default=None, description="Minor units moved, where one was (price, redemption)."
    )


class NoBody(BaseModel):
    """The empty body of a POST whose path says everything (its Idempotency-Key still applies)."""


class EndorseIn(BaseModel):
    model_config = {"json_schema_extra": {"examples": [{"accept": True}]}}

    accept: bool = Field(default=True, description="Confirm (true) or reject (false).")


class EndorsementSignatureIn(BaseModel):
    model_config = {
        "json_schema_extra": {
            "examples": [{"accept": True, "deadline": 1798000000, "signature": "0x" + "ab" * 65}]
        }
    }

    accept: bool
    deadline: int = Field(gt=0, le=DB_INT_MAX, description="Unix time after which the signature is void.")
    signature: str = Field(
        pattern=r"^0x[0-9a-fA-F]{130}$", description="65-byte EIP-712 signature of the debtor."
    )


class EndorsementRequest(BaseModel):
    """What the debtor signs (EIP-712 typed data) to endorse without sending a transaction."""

    typed_data: dict[str, Any]
    nonce: int


class TransferIn(BaseModel):
    model_config = {
        "json_schema_extra": {
            "examples": [{"to_participant_id": "6f1c2d3e-0000-4000-8000-000000000002", "amount": 123620}]
        }
    }

    to_participant_id: PlainText = Field(min_length=1, max_length=36)
    amount: int = Amount


class RepayIn(BaseModel):
    model_config = {"json_schema_extra": {"examples": [{"amount": 309050, "currency": "CNY"}]}}

    amount: int = Amount
    currency: CurrencyCode | None = Field(
        default=None,
        description="The currency of `amount`: the receivable's (422 `CURRENCY_MISMATCH` otherwise).",
    )


class DisputeIn(BaseModel):
    model_config = {
        "json_schema_extra": {
            "examples": [{"reason": "Two widgets arrived damaged (receipt advice RA-5512)."}]
        }
    }

    reason: MultilineText = Field(
        min_length=1, max_length=2000, description="Why; its keccak256 goes on chain."
    )


class ResolveIn(BaseModel):
    model_config = {"json_schema_extra": {"examples": [{"action": "credit_note", "amount": 2500}]}}

    action: Literal["lift", "credit_note"]
    amount: int | None = Field(
        default=None, gt=0, lt=2**128, description="Credit note amount (credit_note only)."
    )


class OfferIn(BaseModel):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "receivable_id": 1,
                    "max_amount": 123620,
                    "rate_bps": 600,
                    "expiry": 1798000000,
                    "currency": "CNY",
                }
            ]
        }
    }

    receivable_id: int = Field(gt=0, le=DB_INT_MAX)
    max_amount: int = Amount
    rate_bps: int = Field(ge=0, le=10_000, description="Annual discount rate in basis points (ACT/365).")
    expiry: int = Field(gt=0, le=DB_INT_MAX, description="Unix time: last moment the offer can be accepted.")
    currency: CurrencyCode | None = Field(
        default=None,
        description="The currency of `max_amount`: the receivable's (else 422 `CURRENCY_MISMATCH`).",
    )


class AcceptIn(BaseModel):
    model_config = {"json_schema_extra": {"examples": [{"amount": 123620, "min_price": 122441}]}}

    amount: int = Amount
    min_price: int | None = Field(
        default=None,
        ge=0,
        lt=2**128,
        description="The least the holder accepts to be paid (the price `GET /offers/{id}/quote` showed): the"
        " ledger refuses the sale below it (409 `CHAIN_PRICE_BELOW_MINIMUM`), as when a repayment or credit"
        " note lowered what the units claim in between. Time alone only raises the price.",
    )


class MintIn(BaseModel):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "to_participant_id": "6f1c2d3e-0000-4000-8000-000000000004",
                    "currency": "CNY",
                    "amount": 1000000,
                }
            ]
        }
    }

    to_participant_id: PlainText = Field(min_length=1, max_length=36)
    currency: CurrencyCode
    amount: int = Amount


class IssuerCapIn(BaseModel):
    model_config = {"json_schema_extra": {"examples": [{"currency": "CNY", "cap_minor": 100000000}]}}

    currency: CurrencyCode
    cap_minor: int = Field(
        ge=0,
        lt=2**128,
        description="Most the issuer may have outstanding (minted minus burned); 0 stops minting.",
    )


class IssuerOut(BaseModel):
    participant_id: str
    chain_address: str
    currency: str
    cap_minor: int
    issued_minor: int = Field(description="Minted minus burned by this issuer.")
    tx_hash: str | None = None


class BalanceOut(BaseModel):
    participant_id: str
    chain_address: str
    currency: str
    settlement_balance_minor: int


class CurrencyOut(BaseModel):
    """A settlement currency of the platform."""

    currency: str = Field(description="ISO 4217 alphabetic code.")
    token: str = Field(
        description="Address of its settlement token (`SettlementToken.currency()` is the code)."
    )
    minor_unit: int = Field(
        description="ISO 4217 minor unit, the token's decimals: N minor units are N / 10^minor_unit."
    )


class QuoteOut(BaseModel):
    """What accepting an offer for ``amount`` pays, as of the chain's latest block (the contract's
    pricing: ACT/365, a started day counts, the price rounded down)."""

    offer_id: int
    receivable_id: int
    amount_minor: int = Field(description="Units sold (minor units of face value).")
    claim_minor: int = Field(
        description="What the units still claim: `amount_minor` x outstanding / face value, rounded down"
        " (equal to `amount_minor` before any repayment or credit note)."
    )
    price_minor: int = Field(
        description="Paid to the holder if accepted at `as_of`: `claim_minor` discounted."
    )
    discount_minor: int = Field(description="`claim_minor` minus `price_minor`.")
    rate_bps: int
    days_to_maturity: int
    as_of: int = Field(
        description="The latest block's Unix time the quote is for: a later block may be a day on."
    )
