"""Document bundles: verify (dry run) and tokenize."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query
from fastapi.responses import JSONResponse
from sqlmodel import Session, col, func, select

from api.auth import Principal, PrincipalDep, require
from api.deps import SessionDep, StateDep
from api.errors import ApiError, error_responses
from api.models import Bundle, Document
from api.schemas.bundles import BundleIn, BundleOut, DocumentRef, VerificationResult
from api.schemas.common import Page
from api.services.bundles import prepare, tokenize
from api.services.idempotency import run_idempotent
from domain.roles import Role

router = APIRouter(prefix="/bundles", tags=["bundles"])
Supplier = Annotated[Principal, require(Role.SUPPLIER)]
ERRORS = error_responses(400, 401, 403, 404, 409, 413, 422, 503)


def bundle_out(session: Session, b: Bundle) -> BundleOut:
    docs = session.exec(select(Document).where(Document.bundle_id == b.id)).all()
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
        supplier_id=b.supplier_id,
        debtor_id=b.debtor_id,
        documents=[DocumentRef(id=d.id, kind=d.kind, name=d.name, sha256=d.sha256) for d in docs],
    )


@router.post("/verify", response_model=VerificationResult, responses=ERRORS)
def verify(body: BundleIn, principal: Supplier, state: StateDep, session: SessionDep) -> VerificationResult:
    """Check a bundle against every rule without tokenizing it (a dry run). Nothing is stored."""
    p = prepare(state, session, principal.member, body)
    return VerificationResult(ok=not p.violations, violations=p.violations, summary=p.summary())


@router.post(
    "",
    status_code=201,
    response_model=BundleOut,
    responses={**ERRORS, 201: {"description": "Tokenized: the receivable id and transaction hash."}},
)
def submit(
    body: BundleIn,
    principal: Supplier,
    state: StateDep,
    session: SessionDep,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> JSONResponse:
    """Verify the bundle and, only if every rule passes, anchor its hash and tokenize the invoice.

    A failing bundle is answered 422 `BUNDLE_REJECTED` with every violation in `details`, and
    changes nothing. Requires an `Idempotency-Key`: a retry returns the first answer.
    """
    supplier = principal.participant
    assert supplier is not None

    def action() -> tuple[int, BundleOut]:
        p = prepare(state, session, supplier, body)
        if p.violations:
            raise ApiError(
                422,
                "BUNDLE_REJECTED",
                f"The bundle fails {len(p.violations)} rule(s); nothing was tokenized.",
                [v.model_dump() for v in p.violations],
            )
        return 201, bundle_out(session, tokenize(state, session, p))

    return run_idempotent(session, supplier.id, idempotency_key, body, action)


@router.get("", response_model=Page[BundleOut], responses=ERRORS)
def list_bundles(
    principal: PrincipalDep,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[BundleOut]:
    """Bundles the caller submitted (supplier) or owes (core enterprise); all for operator/regulator."""
    query = select(Bundle)
    count = select(func.count()).select_from(Bundle)
    if principal.role not in (Role.OPERATOR, Role.REGULATOR):
        mine = (col(Bundle.supplier_id) == principal.participant_id) | (
            col(Bundle.debtor_id) == principal.participant_id
        )
        query, count = query.where(mine), count.where(mine)
    rows = session.exec(query.order_by(col(Bundle.created_at)).offset(offset).limit(limit)).all()
    return Page(
        items=[bundle_out(session, b) for b in rows],
        total=session.exec(count).one(),
        limit=limit,
        offset=offset,
    )


@router.get("/{bundle_id}", response_model=BundleOut, responses=ERRORS)
def read_bundle(bundle_id: str, principal: PrincipalDep, session: SessionDep) -> BundleOut:
    """One bundle, for its supplier, its debtor, the operator and the regulator."""
    b = session.get(Bundle, bundle_id)
    allowed = principal.role in (Role.OPERATOR, Role.REGULATOR) or principal.participant_id in (
        b.supplier_id if b else None,
        b.debtor_id if b else None,
    )
    if b is None or not allowed:
        raise ApiError(404, "BUNDLE_NOT_FOUND", f"No bundle {bundle_id}.")
    return bundle_out(session, b)
