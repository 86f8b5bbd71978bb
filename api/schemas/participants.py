from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field, field_validator

from api.schemas.common import MultilineText, PlainText
from domain.identity import RevocationReason
from domain.roles import Role

ADDRESS_PATTERN = r"^0x[0-9a-fA-F]{40}$"


class PartyIdentifierIn(BaseModel):
    """A UBL party identifier: `schemeID` and value (e.g. GLN `0088` / `7300010000001`)."""

    scheme: PlainText = Field(min_length=1, max_length=32, examples=["0088"])
    id: PlainText = Field(min_length=1, max_length=128, examples=["7300010000001"])


class PartyIdentifierOut(BaseModel):
    """A registered party identifier, answered as stored."""

    scheme: str
    id: str


class OnboardRequest(BaseModel):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "legal_name": "Fabrikant Metall AB",
                    "registration_id": "SE5561234567",
                    "role": "supplier",
                    "party_identifiers": [{"scheme": "0088", "id": "7350000000026"}],
                    "signing_key_pem": (
                        "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0C...\n-----END PUBLIC KEY-----\n"
                    ),
                }
            ]
        }
    }

    legal_name: PlainText = Field(min_length=1, max_length=64, examples=["Acme Components GmbH"])
    registration_id: PlainText = Field(min_length=1, max_length=64, examples=["DE123456789"])
    role: Role = Field(examples=["supplier"])
    chain_address: str | None = Field(
        default=None,
        pattern=ADDRESS_PATTERN,
        examples=["0x70997970C51812dc3A010C7d01b50e0d17dc79C8"],
        description="The participant's own address (it signs itself). Omit it for a custodial account "
        "the gateway creates and signs with on the participant's behalf.",
    )
    party_identifiers: list[PartyIdentifierIn] = Field(default_factory=list, max_length=20)
    signing_key_pem: MultilineText | None = Field(
        default=None,
        max_length=4000,
        description="The participant's document-signing public key (PEM, ECDSA P-256). Or give `csr_pem`.",
    )
    csr_pem: MultilineText | None = Field(
        default=None, max_length=8000, description="A PKCS#10 request for that key."
    )

    @field_validator("role")
    @classmethod
    def _onboardable(cls, v: Role) -> Role:
        if not v.onboardable:
            raise ValueError(f"a participant can't be onboarded as {v.value}")
        return v


class ParticipantOut(BaseModel):
    id: str
    custodial: bool = Field(description="Whether the gateway holds this participant's chain key.")
    legal_name: str
    registration_id: str
    role: Role
    chain_address: str
    status: str
    certificate_serial: str
    certificate_revoked: bool = Field(
        default=False, description="Whether its signing certificate was revoked: its signatures are refused."
    )
    identity_hash: str
    party_identifiers: list[PartyIdentifierOut]
    created_at: datetime


class OnboardResponse(BaseModel):
    participant: ParticipantOut
    api_key: str = Field(description="Shown once. The gateway stores only its hash.")
    certificate_pem: str
    ca_certificate_pem: str
    tx_hash: str | None


class RevokeRequest(BaseModel):
    model_config = {"json_schema_extra": {"examples": [{"reason": "keyCompromise"}]}}

    reason: RevocationReason = RevocationReason.KEY_COMPROMISE


class ApiKeyOut(BaseModel):
    participant_id: str
    api_key: str = Field(description="Shown once. The gateway stores only its hash.")


class DirectoryEntry(BaseModel):
    """An active participant as every other member sees it: whom to pay, whom to offer to."""

    id: str
    legal_name: str
    role: Role
