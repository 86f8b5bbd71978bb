"""Stored documents: decrypted for authorized parties, with their hashes checked against the chain."""

from __future__ import annotations

import base64
import hashlib

from fastapi import APIRouter
from sqlmodel import select

from api.auth import PrincipalDep
from api.deps import SessionDep, StateDep
from api.errors import ApiError, error_responses
from api.models import Bundle, Document, Participant
from api.schemas.documents import DocumentContent
from api.services.bundles import manifest_hash
from domain.identity import decrypt_blob, derive_blob_key
from domain.roles import Role

router = APIRouter(prefix="/documents", tags=["documents"])


@router.get(
    "/{document_id}",
    response_model=DocumentContent,
    responses=error_responses(401, 404, 503),
)
def read_document(
    document_id: str, principal: PrincipalDep, state: StateDep, session: SessionDep
) -> DocumentContent:
    """A stored document for its supplier, its debtor, a current holder of the receivable, the
    operator and the regulator; the bundle hash is recomputed and compared with the chain's."""
    doc = session.get(Document, document_id)
    bundle = session.get(Bundle, doc.bundle_id) if doc else None
    if doc is None or bundle is None or not _may_read(principal, bundle, state):
        raise ApiError(404, "DOCUMENT_NOT_FOUND", f"No document {document_id}.")
    key = derive_blob_key(state.settings.effective_secret_key, purpose="documents")
    data = decrypt_blob(key, doc.ciphertext, associated_data=doc.id.encode())
    siblings = session.exec(select(Document).where(Document.bundle_id == bundle.id)).all()
    recomputed = "0x" + manifest_hash((d.kind, d.sha256) for d in siblings).hex()
    chain_hash = _chain_bundle_hash(state, bundle)
    return DocumentContent(
        id=doc.id,
        bundle_id=bundle.id,
        kind=doc.kind,
        name=doc.name,
        media_type=doc.media_type,
        sha256=hashlib.sha256(data).hexdigest(),
        content_base64=base64.b64encode(data).decode(),
        signature=doc.signature,
        receivable_id=bundle.receivable_id,
        bundle_hash=bundle.bundle_hash,
        chain_bundle_hash=chain_hash,
        anchored=chain_hash == bundle.bundle_hash == recomputed
        and hashlib.sha256(data).hexdigest() == doc.sha256,
    )


def _chain_bundle_hash(state: StateDep, bundle: Bundle) -> str | None:
    if bundle.receivable_id is None:
        return None
    r = state.chain().platform.ledger.receivable(bundle.receivable_id)
    return "0x" + r.bundle_hash.hex() if r.face_value else None


def _may_read(principal: PrincipalDep, bundle: Bundle, state: StateDep) -> bool:
    if principal.role in (Role.OPERATOR, Role.REGULATOR):
        return True
    if principal.participant_id in (bundle.supplier_id, bundle.debtor_id):
        return True
    holder: Participant | None = principal.participant
    if holder is None or bundle.receivable_id is None:
        return False
    return state.chain().platform.ledger.balance_of(holder.chain_address, bundle.receivable_id) > 0
