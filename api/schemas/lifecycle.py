from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

Amount = Field(gt=0, lt=2**128, description="Minor units of the settlement token (integer).")


class TxOut(BaseModel):
    """A transaction the gateway sent and saw mined."""

    tx_hash: str
    block_number: int
    receivable_id: int | None = None
    offer_id: int | None = None
    amount: int | None = Field(
        default=None, description="Minor units moved, where one was (price, redemption)."
    )


class NoBody(BaseModel):
    """The empty body of a POST whose path says everything (its Idempotency-Key still applies)."""


class EndorseIn(BaseModel):
    accept: bool = Field(default=True, description="Confirm (true) or reject (false).")


class EndorsementSignatureIn(BaseModel):
    accept: bool
    deadline: int = Field(gt=0, description="Unix time after which the signature is void.")
    signature: str = Field(
        pattern=r"^0x[0-9a-fA-F]{130}$", description="65-byte EIP-712 signature of the debtor."
    )


class EndorsementRequest(BaseModel):
    """What the debtor signs (EIP-712 typed data) to endorse without sending a transaction."""

    typed_data: dict[str, Any]
    nonce: int


class TransferIn(BaseModel):
    to_participant_id: str = Field(min_length=1, max_length=36)
    amount: int = Amount


class RepayIn(BaseModel):
    amount: int = Amount


class DisputeIn(BaseModel):
    reason: str = Field(min_length=1, max_length=2000, description="Why; its keccak256 goes on chain.")


class ResolveIn(BaseModel):
    action: Literal["lift", "credit_note"]
    amount: int | None = Field(
        default=None, gt=0, lt=2**128, description="Credit note amount (credit_note only)."
    )


class OfferIn(BaseModel):
    receivable_id: int = Field(gt=0)
    max_amount: int = Amount
    rate_bps: int = Field(ge=0, le=10_000, description="Annual discount rate in basis points (ACT/365).")
    expiry: int = Field(gt=0, description="Unix time: last moment the offer can be accepted.")


class AcceptIn(BaseModel):
    amount: int = Amount


class MintIn(BaseModel):
    to_participant_id: str = Field(min_length=1, max_length=36)
    amount: int = Amount


class BalanceOut(BaseModel):
    participant_id: str
    chain_address: str
    settlement_balance_minor: int
