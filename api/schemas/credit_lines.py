from __future__ import annotations

from pydantic import BaseModel, Field


class CreditLineIn(BaseModel):
    model_config = {"json_schema_extra": {"examples": [{"limit_minor": 100000000}]}}

    limit_minor: int = Field(
        ge=0,
        lt=2**128,
        description="The calling financier's own line to this core enterprise, in minor units.",
    )


class PlatformLimitIn(BaseModel):
    model_config = {"json_schema_extra": {"examples": [{"cap_minor": 500000000}, {"cap_minor": None}]}}

    cap_minor: int | None = Field(
        ge=0,
        lt=2**120,
        description="Cap on the sum of all financiers' lines to this core enterprise; null removes it.",
    )


class CreditLineOut(BaseModel):
    participant_id: str
    chain_address: str
    limit_minor: int = Field(
        description="Available limit: the sum of all lines, capped by the platform limit."
    )
    used_minor: int = Field(description="Reserved credit: pending and confirmed, unpaid payables.")
    available_minor: int = Field(description="What further tokenizations may still reserve.")
    granted_minor: int = Field(description="Sum of all financiers' lines (before the platform cap).")
    platform_cap_minor: int | None = Field(description="The operator's cap, if any.")
    my_line_minor: int | None = Field(
        default=None, description="The calling financier's own line (financiers only)."
    )
    tx_hash: str | None = None
