from __future__ import annotations

from pydantic import BaseModel, Field


class DocumentContent(BaseModel):
    id: str
    bundle_id: str
    kind: str
    name: str
    media_type: str
    sha256: str = Field(description="SHA-256 of the exact bytes (recomputed from the decrypted content).")
    content_base64: str
    signature: str | None
    receivable_id: int | None
    bundle_hash: str = Field(description="The bundle hash the gateway recorded.")
    chain_bundle_hash: str | None = Field(
        description="The bundle hash anchored on chain (InvoiceRegistered event)."
    )
    anchored: bool = Field(
        description="Whether the two bundle hashes agree and this document is in the manifest."
    )
