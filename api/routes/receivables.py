"""Receivables on the ledger: endorse, split and transfer, repay, redeem, dispute and resolve."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from api.auth import Principal, PrincipalDep, require
from api.csvout import CSV_ALTERNATIVE, Format, found_or_csv, window
from api.deps import IdPath, PagingDep, SessionDep, StateDep
from api.errors import error_responses
from api.idempotency import IdempotencyDep
from api.schemas.common import DB_INT_MAX, Page
from api.schemas.lifecycle import (
    DisputeIn,
    EndorseIn,
    EndorsementRequest,
    EndorsementSignatureIn,
    NoBody,
    RepayIn,
    ResolveIn,
    TransferIn,
    TxOut,
)
from api.schemas.reports import Provenance, ReceivableOut
from api.services import provenance as provenance_service
from api.services import receivables
from domain.roles import Role

Deadline = Annotated[int, Query(ge=0, le=DB_INT_MAX, description="Unix time; 0: an hour from now.")]

router = APIRouter(prefix="/receivables", tags=["receivables"])
ERRORS = error_responses(400, 401, 403, 404, 409, 422, 503)
CoreEnterprise = Annotated[Principal, require(Role.CORE_ENTERPRISE)]
Operator = Annotated[Principal, require(Role.OPERATOR)]
Holder = Annotated[Principal, require(Role.SUPPLIER, Role.FINANCIER, Role.CORE_ENTERPRISE)]
Disputer = Annotated[Principal, require(Role.CORE_ENTERPRISE, Role.REGULATOR)]
# repay and redeem settle existing debts: open to suspended participants too
Repayer = Annotated[Principal, require(Role.CORE_ENTERPRISE, settling=True)]
Redeemer = Annotated[
    Principal,
    require(Role.SUPPLIER, Role.FINANCIER, Role.CORE_ENTERPRISE, settling=True),
]


@router.post("/{rid}/endorse", response_model=TxOut, responses=ERRORS)
def endorse(
    rid: IdPath,
    body: EndorseIn,
    principal: CoreEnterprise,
    state: StateDep,
    session: SessionDep,
    idem: IdempotencyDep,
) -> TxOut:
    """Confirm or reject a payable (its credit was reserved at tokenization; a rejection releases it),
    signed by the gateway for the debtor."""
    return idem.run(body, lambda: receivables.endorse(state, session, principal.member, rid, body.accept))


@router.get("/{rid}/endorsement-request", response_model=EndorsementRequest, responses=ERRORS)
def endorsement_request(
    rid: IdPath, principal: CoreEnterprise, state: StateDep, accept: bool = True, deadline: Deadline = 0
) -> EndorsementRequest:
    """The EIP-712 typed data the debtor signs with its own key to endorse without a transaction."""
    return receivables.endorsement_request(state, principal.member, rid, accept, deadline)


@router.post("/{rid}/endorsement-signature", response_model=TxOut, responses=ERRORS)
def endorse_by_signature(
    rid: IdPath,
    body: EndorsementSignatureIn,
    principal: CoreEnterprise,
    state: StateDep,
    idem: IdempotencyDep,
) -> TxOut:
    """Relay the debtor's EIP-712 endorsement (the contract checks signer, nonce, deadline, chain)."""
    return idem.run(
        body,
        lambda: receivables.endorse_by_signature(
            state, principal.member, rid, body.accept, body.deadline, body.signature
        ),
    )


@router.post("/{rid}/transfers", response_model=TxOut, responses=ERRORS)
def transfer(
    rid: IdPath,
    body: TransferIn,
    principal: Holder,
    state: StateDep,
    session: SessionDep,
    idem: IdempotencyDep,
) -> TxOut:
    """Split: move part of my holding to another participant (keeps debtor and due date)."""
    me = principal.member
    return idem.run(
        body, lambda: receivables.transfer(state, session, me, rid, body.to_participant_id, body.amount)
    )


@router.post("/{rid}/repayments", response_model=TxOut, responses=ERRORS)
def repay(
    rid: IdPath, body: RepayIn, principal: Repayer, state: StateDep, session: SessionDep, idem: IdempotencyDep
) -> TxOut:
    """Repay all or part of a payable in settlement tokens (the gateway approves the ledger first)."""
    return idem.run(
        body, lambda: receivables.repay(state, session, principal.member, rid, body.amount, body.currency)
    )


@router.post("/{rid}/redemptions", response_model=TxOut, responses=ERRORS)
def redeem(
    rid: IdPath, principal: Redeemer, state: StateDep, session: SessionDep, idem: IdempotencyDep
) -> TxOut:
    """Collect my pro-rata share of what the debtor has repaid (pull)."""
    return idem.run(NoBody(), lambda: receivables.redeem(state, session, principal.member, rid))


@router.post("/{rid}/disputes", response_model=TxOut, responses=ERRORS)
def dispute(
    rid: IdPath,
    body: DisputeIn,
    principal: Disputer,
    state: StateDep,
    session: SessionDep,
    idem: IdempotencyDep,
) -> TxOut:
    """Mark a receivable disputed (its debtor or a regulator): transfers and discounting freeze."""
    me = principal.member
    return idem.run(body, lambda: receivables.dispute(state, session, me, principal.role, rid, body.reason))


@router.post("/{rid}/resolution", response_model=TxOut, responses=ERRORS)
def resolve(rid: IdPath, body: ResolveIn, _: Operator, state: StateDep, idem: IdempotencyDep) -> TxOut:
    """Resolve a dispute (operator): lift the freeze, or dilute by a credit note pro rata over holders."""
    return idem.run(body, lambda: receivables.resolve(state, rid, body.action, body.amount))


# ------------------------------------------------------------------ reading (from the read model)


@router.get("", response_model=Page[ReceivableOut], responses={**ERRORS, **CSV_ALTERNATIVE})
def list_receivables(
    principal: PrincipalDep, state: StateDep, session: SessionDep, paging: PagingDep, format: Format = "json"
) -> Page[ReceivableOut] | Response:
    """Receivables I am creditor, debtor or (past) holder of; all of them for operator and regulator."""
    found = receivables.list_visible(state, session, principal, *window(paging, format))
    return found_or_csv(found, paging, format, "receivables")


@router.get("/{rid}", response_model=ReceivableOut, responses=ERRORS)
def read_receivable(
    rid: IdPath, principal: PrincipalDep, state: StateDep, session: SessionDep
) -> ReceivableOut:
    """One receivable, for the parties to it, its holders, the operator and the regulator."""
    return receivables.read(state, session, principal, rid)


@router.get("/{rid}/provenance", response_model=Provenance, responses=ERRORS)
def provenance(rid: IdPath, principal: PrincipalDep, state: StateDep, session: SessionDep) -> Provenance:
    """The receivable's whole history: anchored documents, endorsement, every split and transfer (as a
    tree), each discount with price and rate, repayments, redemptions and disputes, with blocks and
    transaction hashes."""
    return provenance_service.provenance(state, session, principal, rid)
