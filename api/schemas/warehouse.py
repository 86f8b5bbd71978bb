"""Warehouse receipts, loans against them, and commodity prices: requests and answers (issue 13).

Quantities are integers in the unit's smallest step (kilograms for ``KGM``); money is integer minor units
of the settlement token; a price is minor units per 1,000 units (per tonne for kilograms); times are unix
seconds of the chain's clock.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from api.schemas.common import DB_INT_MAX, PlainText
from api.schemas.lifecycle import Amount
from api.schemas.reports import PartyRefOut
from chain.plan import WAREHOUSE_CURRENCY

#: A commodity code: upper-case ASCII letters, digits and ``_``, at most 16 (a ``bytes16`` on chain).
Commodity = Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]{0,15}$", examples=["SOYBEAN"])]
#: A UN/ECE Recommendation 20 unit code (a ``bytes4`` on chain): ``KGM``, ``TNE``, ``H87``.
UnitCode = Annotated[str, Field(pattern=r"^[A-Z0-9]{2,3}$", examples=["KGM"])]
#: A short identifier stored as a ``bytes32`` text on chain (grade, storage location): printable ASCII.
Short = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[\x20-\x7e]+$")]
Hash32 = Annotated[str, Field(pattern=r"^0x[0-9a-f]{64}$", description="32 bytes, 0x + 64 lower-case hex.")]
Bps = Field(gt=0, le=10_000, description="Basis points of the collateral's value (1..10,000).")


class IssueIn(BaseModel):
    """A warehouse issues a receipt for a lot it holds, to the goods' owner."""

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "owner_id": "6f1c2d3e-0000-4000-8000-000000000001",
                    "lot_number": "DL-2026-0042",
                    "commodity": "SOYBEAN",
                    "grade": "GB 1352 No. 2",
                    "quantity": 500000,
                    "unit": "KGM",
                    "location": "SILO-3",
                    "evidence_hash": "0x" + "ab" * 32,
                }
            ]
        }
    }

    owner_id: str = Field(min_length=1, max_length=36, description="The goods' owner (a participant id).")
    lot_number: PlainText = Field(
        min_length=1,
        max_length=64,
        description="The lot's number at the warehouse (normalized like invoice numbers).",
    )
    commodity: Commodity
    grade: Short
    quantity: int = Field(gt=0, lt=2**96, description="In the unit's smallest step (kilograms for KGM).")
    unit: UnitCode
    location: Short = Field(description="The storage location in the warehouse (silo, bay, room).")
    evidence_hash: Hash32 = Field(
        description="Hash of the goods-in evidence (weighbridge ticket, inspection)."
    )


class AppointIn(BaseModel):
    model_config = {"json_schema_extra": {"examples": [{"appointed": True}]}}

    appointed: bool = Field(default=True, description="Appoint (true) or withdraw the appointment (false).")


class TransferIn(BaseModel):
    model_config = {
        "json_schema_extra": {"examples": [{"to_participant_id": "6f1c2d3e-0000-4000-8000-000000000002"}]}
    }

    to_participant_id: str = Field(min_length=1, max_length=36)


class FreezeIn(BaseModel):
    model_config = {"json_schema_extra": {"examples": [{"frozen": True}]}}

    frozen: bool = Field(default=True, description="Freeze (true) or unfreeze (false) the pledged receipt.")


class PledgeRequestIn(BaseModel):
    """An owner asks a financier for a loan against a receipt (the financier then sees the receipt)."""

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "financier_id": "6f1c2d3e-0000-4000-8000-000000000003",
                    "principal": 150000000,
                    "note": "120 days",
                }
            ]
        }
    }

    financier_id: str = Field(min_length=1, max_length=36)
    principal: int = Amount
    note: PlainText = Field(default="", max_length=500)


class PledgeRequestOut(BaseModel):
    id: int
    receipt_id: int
    owner: PartyRefOut
    financier: PartyRefOut
    principal: int
    note: str
    created_at: int = Field(description="Unix time (the gateway's clock).")


class LoanOfferIn(BaseModel):
    """A financier's loan offer against a receipt; nothing moves until the owner accepts."""

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "receipt_id": 1,
                    "principal": 15000000,
                    "rate_bps": 800,
                    "maturity": 1798000000,
                    "ltv_limit_bps": 7000,
                    "margin_call_bps": 8000,
                }
            ]
        }
    }

    receipt_id: int = Field(gt=0, le=DB_INT_MAX)
    principal: int = Field(gt=0, lt=2**112, description="Minor units paid out to the owner when it accepts.")
    rate_bps: int = Field(
        ge=0, le=10_000, description="Annual simple interest (ACT/365, a started day whole)."
    )
    maturity: int = Field(gt=0, lt=2**40, description="Unix time the loan is due.")
    ltv_limit_bps: int = Bps
    margin_call_bps: int = Bps


class RepayIn(BaseModel):
    model_config = {"json_schema_extra": {"examples": [{"amount": 153205479}]}}

    amount: int = Amount


class CollateralIn(BaseModel):
    model_config = {"json_schema_extra": {"examples": [{"receipt_id": 2}]}}

    receipt_id: int = Field(gt=0, le=DB_INT_MAX)


class PriceObservationIn(BaseModel):
    """A price source's signed observation (compact JWS, see docs/warehouse.md)."""

    model_config = {
        "json_schema_extra": {
            "examples": [{"observation": "eyJhbGciOiJFUzI1NiJ9.eyJjb21tb2RpdHkiOiJTT1lCRUFOIn0.c2ln"}]
        }
    }

    observation: str = Field(min_length=1, max_length=16_384)


class PriceOut(BaseModel):
    commodity: str
    unit: str
    per_thousand: int = Field(description="Minor units per 1,000 units (per tonne for KGM).")
    currency: str = Field(
        default=WAREHOUSE_CURRENCY,
        description="ISO 4217 code of the amounts: warehouse loans and prices are in the warehouse's token.",
    )
    observed_at: int
    source_hash: str
    block_number: int


class Valuation(BaseModel):
    """What collateral is worth at the latest recorded price: floor(quantity x price / 1000)."""

    price_per_thousand: int | None = Field(description="None: no price recorded for the commodity and unit.")
    price_observed_at: int | None
    value: int | None
    currency: str = Field(
        default=WAREHOUSE_CURRENCY,
        description="ISO 4217 code of the amounts: warehouse loans and prices are in the warehouse's token.",
    )


class ReceiptOut(BaseModel):
    id: int
    warehouse: PartyRefOut
    owner: PartyRefOut
    commodity: str
    grade: str
    quantity: int
    unit: str
    location: str
    lot_ref: str
    evidence_hash: str
    fingerprint: str
    loan_id: int | None
    frozen: bool
    open_alerts: int
    alerts_recorded: int
    surrendered: bool
    issued_block: int
    issued_tx: str
    valuation: Valuation


class ReceiptEventOut(BaseModel):
    """One event of a receipt's history (a loan's events are on each receipt it holds)."""

    block_number: int
    tx_hash: str
    event: str = Field(
        description="The contract's event: ReceiptIssued, Transfer, LoanStarted, AlertRecorded, ..."
    )
    detail: dict[str, Any] = Field(description="The event's arguments (integers as decimal strings).")


LoanState = Literal["OFFERED", "ACTIVE", "REPAID", "RELEASED", "DEFAULTED", "WITHDRAWN"]


class LoanOut(BaseModel):
    id: int
    receipt_id: int = Field(description="The first receipt pledged.")
    collateral: list[int] = Field(description="Every receipt pledged for it (once active).")
    lender: PartyRefOut
    borrower: PartyRefOut | None
    state: LoanState
    currency: str = Field(
        default=WAREHOUSE_CURRENCY,
        description="ISO 4217 code of the amounts: warehouse loans and prices are in the warehouse's token.",
    )
    principal: int
    rate_bps: int
    maturity: int
    ltv_limit_bps: int
    margin_call_bps: int
    due: int = Field(description="Principal plus interest, fixed when it started (the principal before).")
    repaid: int
    outstanding: int
    collateral_value: int | None = Field(description="At the latest prices; None when a price is missing.")
    ltv_bps: int | None = Field(description="outstanding / collateral value, in basis points rounded up.")
    margin_callable: bool = Field(description="outstanding > value x threshold while active, no call open.")
    margin_deadline: int | None = Field(
        description="While a margin call is open: when the pledgee may take title."
    )
    as_of: int = Field(description="The chain time the valuation was made at.")


# ------------------------------------------------------------------------------------------ devices

DeviceKindName = Literal["scale", "counter", "camera", "thermometer", "seal", "gps_tag"]
DeviceId = Annotated[
    str, Field(pattern=r"^dev-[a-z0-9](?:[a-z0-9-]{0,58}[a-z0-9])?$", examples=["dev-silo3-scale"])
]
Location = Annotated[
    str, Field(pattern=r"^[A-Za-z0-9](?:[A-Za-z0-9._:/-]{0,30}[A-Za-z0-9])?$", examples=["SILO-3"])
]
ReceiptIds = Annotated[list[Annotated[int, Field(gt=0, lt=2**53)]], Field(min_length=1, max_length=256)]


class DeviceIn(BaseModel):
    """A warehouse registers a device: the platform CA certifies its key, bound to the warehouse, one
    storage location (a GPS tag: its geofence) and the receipts it watches."""

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "device_id": "dev-silo3-scale",
                    "kind": "scale",
                    "location": "SILO-3",
                    "receipt_ids": [1],
                    "public_key_pem": "-----BEGIN PUBLIC KEY-----\n...\n-----END PUBLIC KEY-----\n",
                    "heartbeat_s": 3600,
                }
            ]
        }
    }

    device_id: DeviceId
    kind: DeviceKindName
    location: Location
    receipt_ids: ReceiptIds
    public_key_pem: str = Field(
        min_length=1, max_length=1000, description="The device's P-256 public key, PEM."
    )
    heartbeat_s: int = Field(
        default=3600, ge=60, le=7 * 86_400, description="Silent longer than this: a DEVICE_SILENT alert."
    )


class DeviceBindingIn(BaseModel):
    """A new binding (new receipts, another location): a new certificate; the old one is revoked."""

    model_config = {"json_schema_extra": {"examples": [{"receipt_ids": [1, 2], "location": "SILO-3"}]}}

    receipt_ids: ReceiptIds
    location: Location | None = None


class DeviceOut(BaseModel):
    device_id: str
    warehouse: PartyRefOut
    kind: str
    location: str
    receipt_ids: list[int]
    status: Literal["active", "suspended", "revoked"]
    serial: str
    thumbprint: str = Field(description="x5t#S256 of the certificate: the header a reading names it by.")
    certificate_pem: str
    last_seq: int
    last_seen: int | None
    heartbeat_s: int


class ReadingIn(BaseModel):
    model_config = {
        "json_schema_extra": {
            "examples": [{"reading": "eyJhbGciOiJFUzI1NiJ9.eyJkZXYiOiJkZXYtc2lsbzMtc2NhbGUifQ.c2ln"}]
        }
    }

    reading: str = Field(
        min_length=1, max_length=4096, description="The device's compact JWS (docs/warehouse.md)."
    )


class ReadingBatchIn(BaseModel):
    """Readings forwarded together (an IoT gateway's uplink): each judged on its own, in order."""

    model_config = {
        "json_schema_extra": {"examples": [{"readings": ["eyJhbGciOiJFUzI1NiJ9.eyJzZXEiOjF9.c2ln"]}]}
    }

    readings: list[Annotated[str, Field(min_length=1, max_length=4096)]] = Field(min_length=1, max_length=100)


class ItemError(BaseModel):
    code: str
    message: str


class AlertOut(BaseModel):
    alert_id: int = Field(description="receipt id << 16 | its number on the receipt.")
    receipt_id: int
    code: str
    message: str | None = Field(
        description="The rule's words (none for an alert recorded outside the gateway)."
    )
    device_id: str | None
    evidence_hash: str
    recorded_block: int | None
    cleared: bool
    explanation: str | None = Field(
        description="The warehouse's signed explanation (compact JWS), once cleared."
    )


class ReadingOut(BaseModel):
    device_id: str
    receipt_id: int
    seq: int
    iat: int
    digest: str = Field(description="SHA-256 of the token: an alert it raises records this as evidence.")
    alerts: list[AlertOut] = Field(description="The alerts it raised (recorded on chain).")


class ReadingResult(BaseModel):
    index: int = Field(description="The reading's position in the batch.")
    reading: ReadingOut | None = Field(description="Accepted: what it proved and the alerts it raised.")
    error: ItemError | None = Field(description="Refused: why (the same codes as POST /warehouse/readings).")


class ReadingBatchOut(BaseModel):
    accepted: int
    refused: int
    results: list[ReadingResult]


class ClearIn(BaseModel):
    """The warehouse's signed explanation, and the new readings it cites (by digest) that show the goods."""

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "explanation": "eyJhbGciOiJFUzI1NiJ9.eyJhaWQiOjY1NTM3fQ.c2ln",
                    "readings": ["eyJhbGciOiJFUzI1NiJ9.eyJzZXEiOjQyfQ.c2ln"],
                }
            ]
        }
    }

    explanation: str = Field(min_length=1, max_length=32_768)
    readings: list[Annotated[str, Field(min_length=1, max_length=4096)]] = Field(min_length=1, max_length=64)


class ReadingDayOut(BaseModel):
    device_id: str
    day: int = Field(description="Days since 1970-01-01 (UTC) of the readings' iat.")
    count: int
    first_iat: int
    last_iat: int
    last_seq: int
    measurements: dict[str, dict[str, int | str]] = Field(
        description="Per measurement its least, greatest and last value: "
        '{"weight_kg": {"min": .., "max": .., "last": ..}, "seal": {"last": "closed"}}.'
    )
