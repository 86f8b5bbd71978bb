from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, Field

from api.schemas.common import PlainText


class DocumentIn(BaseModel):
    """A UBL 2.1 document exactly as the ERP produced it, with its detached signature."""

    name: PlainText = Field(min_length=1, max_length=200, examples=["INV-2026-0815.xml"])
    content_base64: str = Field(description="The document's exact bytes, base64.", max_length=4_000_000)
    signature: PlainText = Field(
        description="Detached JWS (RFC 7515/7797, ES256, x5c) over the exact bytes (docs/identity.md).",
        max_length=20_000,
    )


class AttachmentIn(BaseModel):
    """A rendering or other attachment, bound by its SHA-256 in a document signature's `att` map."""

    name: PlainText = Field(min_length=1, max_length=200, examples=["INV-2026-0815.pdf"])
    media_type: PlainText = Field(default="application/octet-stream", max_length=100)
    content_base64: str = Field(max_length=4_000_000)


class BundleIn(BaseModel):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "documents": [
                        {
                            "name": "INV-2026-0815.xml",
                            "content_base64": "PD94bWwgdmVyc2lvbj0iMS4wIj8+...",
                            "signature": "eyJhbGciOiJFUzI1NiIsImI2NCI6ZmFsc2Us..MEUCIQ...",
                        }
                    ],
                    "attachments": [],
                }
            ]
        }
    }

    documents: list[DocumentIn] = Field(min_length=1, max_length=10)
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=10)


class ViolationOut(BaseModel):
    code: str = Field(examples=["MATCH_PRICE_MISMATCH"])
    message: str
    document: str | None = None
    document_id: str | None = None
    field: str | None = None
    line: str | None = None


class BundleSummary(BaseModel):
    invoice_number: str | None = None
    currency: str | None = None
    face_value_minor: int | None = Field(default=None, description="Payable amount in minor units.")
    issue_date: date | None = None
    due_date: date | None = None
    debtor_participant_id: str | None = None
    bundle_hash: str | None = Field(default=None, description="0x SHA-256 of the bundle manifest (anchored).")
    fingerprint: str | None = Field(default=None, description="0x keccak256 of (seller, invoice number).")


class VerificationResult(BaseModel):
    ok: bool
    violations: list[ViolationOut]
    summary: BundleSummary


class DocumentRef(BaseModel):
    id: str
    kind: str
    name: str
    sha256: str


class BundleOut(BaseModel):
    id: str
    status: str
    receivable_id: int | None
    tx_hash: str | None
    block_number: int | None
    bundle_hash: str
    fingerprint: str
    invoice_number: str
    face_value_minor: int
    currency: str = Field(description="ISO 4217 code: the receivable is in this currency's settlement token.")
    tenor_days: int = Field(description="Days from the invoice's issue date to its due date.")
    tenor_above_principle: bool = Field(
        description="Due later than the market profile's tenor in principle (6 months in the cn profile),"
        " up to its maximum (1 year): accepted, and flagged for financiers."
    )
    supplier_id: str
    debtor_id: str
    documents: list[DocumentRef]


class RuleCode(BaseModel):
    code: str
    source: str
    description: str


class BundleBatchIn(BaseModel):
    """Many bundles in one request (an ERP's daily run): each verified and answered on its own; the
    verified ones registered together in as few transactions as the ledger allows."""

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "bundles": [
                        {
                            "documents": [
                                {
                                    "name": "INV-2026-0815.xml",
                                    "content_base64": "PD94bWwgdmVyc2lvbj0iMS4wIj8+...",
                                    "signature": "eyJhbGciOiJFUzI1NiIsImI2NCI6ZmFsc2Us..MEUCIQ...",
                                }
                            ],
                            "attachments": [],
                        }
                    ]
                }
            ]
        }
    }

    bundles: list[BundleIn] = Field(min_length=1, max_length=64)


class ItemError(BaseModel):
    """The error envelope's body (``{"code", "message", "details"}``) of one item."""

    code: str
    message: str
    details: Any = None


class BundleBatchItem(BaseModel):
    """One bundle's outcome, at its position in the request."""

    index: int = Field(description="Position of the bundle in the request, from 0.")
    status: Literal["tokenized", "rejected"]
    bundle: BundleOut | None = Field(default=None, description="The tokenized bundle (status `tokenized`).")
    error: ItemError | None = Field(
        default=None,
        description="Why not (status `rejected`): the code and message of a single `POST /bundles`.",
    )
    http_status: int = Field(description="The status a single `POST /bundles` of this bundle would answer.")


class BundleBatchOut(BaseModel):
    items: list[BundleBatchItem]
    tokenized: int
    rejected: int
    transactions: list[str] = Field(description="The registration transactions, in order.")
