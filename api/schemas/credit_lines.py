from __future__ import annotations

from pydantic import BaseModel, Field


class CreditLineIn(BaseModel):
    model_config = {"json_schema_extra": {"examples": [{"limit_minor": 100000000}]}}

    limit_minor: int = Field(
        ge=0, lt=2**128, description="Credit line in minor units of the settlement token."
    )


class CreditLineOut(BaseModel):
    participant_id: str
    chain_address: str
    limit_minor: int
    used_minor: int = Field(description="Confirmed, unpaid payables.")
    available_minor: int
    tx_hash: str | None = None
