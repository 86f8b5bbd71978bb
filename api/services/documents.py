"""Stored documents: decrypted for the parties allowed to read them, their hashes checked against the
chain's anchor."""

from __future__ import annotations

import base64
import hashlib

from sqlmodel import Session, select

from api.errors import ApiError
from api.models import Bundle, Document, Participant
from api.schemas.documents import DocumentContent
from api.services.bundles import manifest_hash
from api.state import AppState
from domain.identity import decrypt_blob, derive_blob_key
from domain.roles import OVERSEERS, Role


def read_document(
    state: AppState, session: Session, role: Role, reader: Participant | None, document_id: str
) -> DocumentContent:
    """The document for its supplier, its debtor, a current holder of the receivable and the overseers
    (404 for anyone else); ``anchored`` says the recomputed bundle hash equals the chain's."""
    doc = session.get(Document, document_id)
    bundle = session.get(Bundle, doc.bundle_id) if doc else None
    if doc is None or bundle is None or not _may_read(state, role, reader, bundle):
        raise ApiError(404, "DOCUMENT_NOT_FOUND", f"No document {document_id}.")
    key = derive_blob_key(state.settings.effective_secret_key, purpose="documents")
    data = decrypt_blob(key, doc.ciphertext, associated_data=doc.id.encode())
    sha256 = hashlib.sha256(data).hexdigest()
    siblings = session.exec(select(Document).where(Document.bundle_id == bundle.id)).all()
    recomputed = "0x" + manifest_hash((d.kind, d.sha256) for d in siblings).hex()
    chain_hash = _chain_bundle_hash(state, bundle)
    return DocumentContent(
        id=doc.id,
        bundle_id=bundle.id,
        kind=doc.kind,
        name=doc.name,
        media_type=doc.media_type,
        sha256=sha256,
        content_base64=base64.b64encode(data).decode(),
        signature=doc.signature,
        receivable_id=bundle.receivable_id,
        bundle_hash=bundle.bundle_hash,
        chain_bundle_hash=chain_hash,
        anchored=chain_hash == bundle.bundle_hash == recomputed and sha256 == doc.sha256,
    )


def _chain_bundle_hash(state: AppState, bundle: Bundle) -> str | None:
    if bundle.receivable_id is None:
        return None
    r = state.chain().platform.ledger.receivable(bundle.receivable_id)
    return "0x" + r.bundle_hash.hex() if r.face_value else None


def _may_read(state: AppState, role: Role, reader: Participant | None, bundle: Bundle) -> bool:
    if role in OVERSEERS:
        return True
    if reader is None:
        return False
    if reader.id in (bundle.supplier_id, bundle.debtor_id):
        return True
    if bundle.receivable_id is None:
        return False
    return state.chain().platform.ledger.balance_of(reader.chain_address, bundle.receivable_id) > 0
