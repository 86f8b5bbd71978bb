"""Green receivables: labels from certifiers' signed attestations, withdrawals, financiers' programmes,
and the green reports (issue 14; docs/green.md)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from api.auth import Principal, PrincipalDep, require
from api.csvout import Format, csv_response
from api.deps import IdPath, PagingDep, SessionDep, StateDep
from api.errors import error_responses
from api.idempotency import IdempotencyDep
from api.schemas.common import Page
from api.schemas.green import (
    AttestationOut,
    GreenBy,
    GreenReportOut,
    LabelIn,
    LabelOut,
    ProgrammeIn,
    ProgrammeOut,
    WithdrawIn,
)
from api.schemas.lifecycle import TxOut
from api.services import green
from domain.roles import Role

router = APIRouter(prefix="/green", tags=["green receivables"])
WRITES = error_responses(400, 401, 403, 404, 409, 422, 503)
READS = error_responses(401, 403, 404, 422, 503)
Certifier = Annotated[Principal, require(Role.CERTIFIER)]
Withdrawer = Annotated[Principal, require(Role.CERTIFIER, Role.REGULATOR)]
Financier = Annotated[Principal, require(Role.FINANCIER)]
Reader = Annotated[Principal, require(Role.OPERATOR, Role.REGULATOR, Role.FINANCIER)]


@router.post("/labels/{receivable_id}", response_model=TxOut, responses=WRITES)
def label(
    receivable_id: IdPath,
    body: LabelIn,
    principal: Certifier,
    state: StateDep,
    session: SessionDep,
    idem: IdempotencyDep,
) -> TxOut:
    """Label a receivable green with my signed attestation (checked: signature, my role, the receivable's
    id and fingerprint, validity on the chain's day); recorded on chain with my account."""
    return idem.run(body, lambda: green.label(state, session, principal.member, receivable_id, body))


@router.post("/labels/{receivable_id}/withdrawal", response_model=TxOut, responses=WRITES)
def withdraw(
    receivable_id: IdPath,
    body: WithdrawIn,
    principal: Withdrawer,
    state: StateDep,
    session: SessionDep,
    idem: IdempotencyDep,
) -> TxOut:
    """Withdraw a live label (its certifier, or a regulator): new offers get no green preference."""
    return idem.run(
        body, lambda: green.withdraw(state, session, principal.member, receivable_id, body.reason)
    )


@router.get("/labels/{receivable_id}", response_model=LabelOut, responses=READS)
def read_label(
    receivable_id: IdPath, principal: PrincipalDep, state: StateDep, session: SessionDep
) -> LabelOut:
    """A receivable's green label with its attestation's hash: for who may see the receivable, its
    certifier, and financiers while the receivable is in the market."""
    return green.read_label(state, session, principal, receivable_id)


@router.get("/labels/{receivable_id}/attestation", response_model=AttestationOut, responses=READS)
def read_attestation(
    receivable_id: IdPath, principal: PrincipalDep, state: StateDep, session: SessionDep
) -> AttestationOut:
    """The certifier's signed attestation behind the label, as it was submitted: verify its signature and
    that its SHA-256 is the label's `attestation_hash` on chain. Readable by whoever may read the label."""
    return green.read_attestation(state, session, principal, receivable_id)


@router.get("/labels", response_model=Page[LabelOut], responses=READS)
def list_labels(
    principal: PrincipalDep, state: StateDep, session: SessionDep, paging: PagingDep
) -> Page[LabelOut]:
    """Labels I recorded (a certifier); all of them (operator, regulator)."""
    return paging.page_of(*green.list_labels(state, session, principal, paging.limit, paging.offset))


@router.put("/programmes/{debtor_id}", response_model=TxOut, responses=WRITES)
def set_programme(
    debtor_id: str,
    body: ProgrammeIn,
    principal: Financier,
    state: StateDep,
    session: SessionDep,
    idem: IdempotencyDep,
) -> TxOut:
    """My green programme for a core enterprise: its green receivables priced `discount_bps` below the
    rate I offer (0 ends it); applied on chain to offers I make from now on."""
    return idem.run(
        body, lambda: green.set_programme(state, session, principal.member, debtor_id, body.discount_bps)
    )


@router.get("/programmes", response_model=list[ProgrammeOut], responses=READS)
def list_programmes(principal: PrincipalDep, state: StateDep, session: SessionDep) -> list[ProgrammeOut]:
    """Programmes in force: mine (a financier), those naming me (a core enterprise), all (overseers)."""
    return green.programmes(state, session, principal)


@router.get("/report", response_model=GreenReportOut, responses=READS)
def read_report(
    principal: Reader,
    state: StateDep,
    session: SessionDep,
    by: Annotated[GreenBy, Query()] = "category",
    format: Format = "json",
) -> GreenReportOut | Response:
    """Green volume and share by catalogue category, debtor or financier, with the CO2e avoided that it
    finances: the platform (operator, regulator), or my own purchases (a financier)."""
    out = green.report(state, session, principal, by)
    return csv_response(out.lines, f"green-{by}") if format == "csv" else out
