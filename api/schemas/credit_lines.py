from __future__ import annotations

from pydantic import BaseModel, Field

from api.schemas.common import CurrencyCode


class CreditLineIn(BaseModel):
    model_config = {"json_schema_extra": {"examples": [{"currency": "CNY", "limit_minor": 100000000}]}}

    currency: CurrencyCode
    limit_minor: int = Field(
        ge=0,
        lt=2**128,
        description="The calling financier's own line to this core enterprise, in minor units of `currency`.",
    )


class PlatformLimitIn(BaseModel):
    model_config = {
        "json_schema_extra": {
            "examples": [{"currency": "CNY", "cap_minor": 500000000}, {"currency": "EUR", "cap_minor": None}]
        }
    }

    currency: CurrencyCode
    cap_minor: int | None = Field(
        ge=0,
        lt=2**120,
        description="Cap on the sum of all financiers' lines to it in `currency`; null: none.",
    )


class CreditLineOut(BaseModel):
    """A core enterprise's credit in one settlement currency (lines in different currencies never add up)."""

    participant_id: str
    chain_address: str
    currency: str
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
