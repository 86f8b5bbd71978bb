"""Reading stored bundles: who may see which, and their API view (verification and tokenization
live in ``services.bundles``)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session, col, select

from api.errors import ApiError
from api.models import Bundle, Document
from api.schemas.bundles import BundleOut, DocumentRef
from api.schemas.common import Page
from api.services.pages import page
from domain.roles import OVERSEERS, Role


def bundle_out(session: Session, b: Bundle) -> BundleOut:
    return bundle_view(b, session.exec(select(Document).where(Document.bundle_id == b.id)).all())


def bundle_view(b: Bundle, docs: Iterable[Document]) -> BundleOut:
    """The API view of ``b`` with its documents ``docs`` (no query)."""
    return BundleOut(
        id=b.id,
        status=b.status,
        receivable_id=b.receivable_id,
        tx_hash=b.tx_hash,
        block_number=b.block_number,
        bundle_hash=b.bundle_hash,
        fingerprint=b.fingerprint,
        invoice_number=b.invoice_number,
        face_value_minor=b.face_value,
        currency=b.currency,
        tenor_days=(b.due_date - b.issue_date) // 86_400,
        tenor_above_principle=b.tenor_above_principle,
        supplier_id=b.supplier_id,
        debtor_id=b.debtor_id,
        documents=[DocumentRef(id=d.id, kind=d.kind, name=d.name, sha256=d.sha256) for d in docs],
    )


def list_bundles(
    session: Session, role: Role, participant_id: str, limit: int, offset: int
) -> Page[BundleOut]:
    """Bundles the caller submitted (supplier) or owes (core enterprise); all for the overseers."""
    query = select(Bundle)
    if role not in OVERSEERS:
        query = query.where(
            (col(Bundle.supplier_id) == participant_id) | (col(Bundle.debtor_id) == participant_id)
        )
    return page(session, query, col(Bundle.created_at), limit, offset, lambda b: bundle_out(session, b))


def read_bundle(session: Session, role: Role, participant_id: str, bundle_id: str) -> BundleOut:
    """One bundle, for its supplier, its debtor and the overseers (404 for anyone else)."""
    b = session.get(Bundle, bundle_id)
    if b is None or (role not in OVERSEERS and participant_id not in (b.supplier_id, b.debtor_id)):
        raise ApiError(404, "BUNDLE_NOT_FOUND", f"No bundle {bundle_id}.")
    return bundle_out(session, b)
