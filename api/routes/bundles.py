"""Document bundles: verify (dry run) and tokenize."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from api.auth import Principal, PrincipalDep, require
from api.deps import PagingDep, SessionDep, StateDep
from api.errors import error_responses
from api.idempotency import IdempotencyDep
from api.schemas.bundles import BundleBatchIn, BundleBatchOut, BundleIn, BundleOut, VerificationResult
from api.schemas.common import Page
from api.services import bundle_reads
from api.services.bundles import prepare, submit_bundle, submit_bundles
from domain.roles import Role

router = APIRouter(prefix="/bundles", tags=["bundles"])
Supplier = Annotated[Principal, require(Role.SUPPLIER)]
ERRORS = error_responses(400, 401, 403, 404, 409, 413, 422, 503)


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
    body: BundleIn, principal: Supplier, state: StateDep, session: SessionDep, idem: IdempotencyDep
) -> BundleOut:
    """Verify the bundle and, only if every rule passes, anchor its hash and tokenize the invoice.
    A failing bundle is answered 422 `BUNDLE_REJECTED` with every violation in `details`, and
    changes nothing. Requires an `Idempotency-Key`: a retry returns the first answer.
    """
    return idem.run(
        body, lambda: bundle_reads.bundle_out(session, submit_bundle(state, session, principal.member, body))
    )


@router.post("/batch", response_model=BundleBatchOut, responses=ERRORS)
def submit_batch(
    body: BundleBatchIn, principal: Supplier, state: StateDep, session: SessionDep, idem: IdempotencyDep
) -> BundleBatchOut:
    """Many bundles (up to 64) in one request: each verified and answered on its own (`items`, in the
    request's order, each with the status a single `POST /bundles` would answer); the verified ones
    registered together, in as few transactions as the ledger allows. Requires an `Idempotency-Key`."""
    return idem.run(body, lambda: submit_bundles(state, session, principal.member, body.bundles))


@router.get("", response_model=Page[BundleOut], responses=ERRORS)
def list_bundles(
    principal: PrincipalDep,
    session: SessionDep,
    paging: PagingDep,
) -> Page[BundleOut]:
    """Bundles the caller submitted (supplier) or owes (core enterprise); all for operator/regulator."""
    return bundle_reads.list_bundles(
        session, principal.role, principal.participant_id, paging.limit, paging.offset
    )


@router.get("/{bundle_id}", response_model=BundleOut, responses=ERRORS)
def read_bundle(bundle_id: str, principal: PrincipalDep, session: SessionDep) -> BundleOut:
    """One bundle, for its supplier, its debtor, the operator and the regulator."""
    return bundle_reads.read_bundle(session, principal.role, principal.participant_id, bundle_id)
