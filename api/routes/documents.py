"""Stored documents: decrypted for authorized parties, with their hashes checked against the chain."""

from __future__ import annotations

from fastapi import APIRouter

from api.auth import PrincipalDep
from api.deps import SessionDep, StateDep
from api.errors import error_responses
from api.schemas.documents import DocumentContent
from api.services import documents

router = APIRouter(prefix="/documents", tags=["documents"])


@router.get("/{document_id}", response_model=DocumentContent, responses=error_responses(401, 404, 503))
def read_document(
    document_id: str, principal: PrincipalDep, state: StateDep, session: SessionDep
) -> DocumentContent:
    """A stored document for its supplier, its debtor, a current holder of the receivable, the
    operator and the regulator; the bundle hash is recomputed and compared with the chain's."""
    return documents.read_document(state, session, principal.role, principal.participant, document_id)
