"""Green receivables: labels from certifiers' attestations, programmes, reports (docs/green.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from api.schemas.common import PlainText
from api.schemas.reports import PartyRefOut


class LabelIn(BaseModel):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "attestation_base64": "eyJ0eXBlIjogInNjZi5ncmVlbi1hdHRlc3RhdGlvbi8xIiwgLi4ufQ==",
                    "signature": "eyJhbGciOiJFUzI1NiIsImI2NCI6ZmFsc2Us..MEUCIQ...",
                }
            ]
        }
    }

    attestation_base64: str = Field(
        description="The attestation's exact bytes (JSON, docs/green.md), base64.", max_length=30_000
    )
    signature: PlainText = Field(
        description="The certifier's detached JWS (ES256, x5c) over those bytes, kind GreenAttestation.",
        max_length=20_000,
    )


class WithdrawIn(BaseModel):
    model_config = {"json_schema_extra": {"examples": [{"reason": "The supplier's plant runs on coal."}]}}

    reason: PlainText = Field(
        min_length=1, max_length=500, description="Why (its keccak-256 is recorded on chain)."
    )


class ProgrammeIn(BaseModel):
    model_config = {"json_schema_extra": {"examples": [{"discount_bps": 50}]}}

    discount_bps: int = Field(
        ge=0,
        le=10_000,
        description="How far below my offered rate green receivables of this debtor are priced.",
    )


class LabelOut(BaseModel):
    receivable_id: int
    certifier: PartyRefOut
    catalogue: str
    category: str
    evidence_hash: str
    attestation_hash: str = Field(description="SHA-256 of the signed attestation's bytes.")
    valid_until: datetime = Field(description="The last second the label holds (inclusive).")
    benefit_kg_co2e: int
    live: bool = Field(description="Not withdrawn and not expired: new offers get programmes' preference.")
    withdrawn: bool
    withdrawn_by: PartyRefOut | None = None
    labelled_block: int


class AttestationOut(BaseModel):
    receivable_id: int
    sha256: str = Field(
        description="SHA-256 of the attestation's bytes: the label's attestationHash on chain."
    )
    attestation_base64: str = Field(description="The attestation's exact bytes (JSON), base64.")
    signature: str = Field(description="The certifier's detached JWS over them (kind GreenAttestation).")


class ProgrammeOut(BaseModel):
    financier: PartyRefOut
    debtor: PartyRefOut
    discount_bps: int
    set_block: int


class GreenLineOut(BaseModel):
    key: str = Field(description="The catalogue and category, the debtor's or the financier's id.")
    name: str | None = None
    currency: str = Field(
        description="ISO 4217 code: a group's receivables in another currency are another line (volumes "
        "and shares are never summed across currencies)."
    )
    receivables: int = Field(description="Receivables with a live label.")
    green_minor: int = Field(description="Their face value (by financier: the nominal it bought of them).")
    total_minor: int = Field(description="All face value of the group (by financier: all it bought).")
    green_share_bps: int = Field(description="green / total, in bps, rounded down.")
    benefit_kg_co2e: int = Field(
        description="CO2e avoided that the group finances: each label's benefit times the share of the face "
        "it stands for (by financier: bought / face), rounded down."
    )


#: what a green report groups by
GreenBy = Literal["category", "debtor", "financier"]


class GreenReportOut(BaseModel):
    by: GreenBy
    as_of_block: int
    as_of: datetime
    lines: list[GreenLineOut]
