"""Warehouse receipts, pledges and loans against them, commodity prices (issue 13, docs/warehouse.md)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from api.auth import Principal, PrincipalDep, require
from api.deps import IdPath, PagingDep, SessionDep, StateDep
from api.errors import error_responses
from api.idempotency import IdempotencyDep
from api.schemas.common import Page
from api.schemas.lifecycle import NoBody, TxOut
from api.schemas.warehouse import (
    AppointIn,
    CollateralIn,
    FreezeIn,
    IssueIn,
    LoanOfferIn,
    LoanOut,
    PledgeRequestIn,
    PledgeRequestOut,
    PriceObservationIn,
    PriceOut,
    ReceiptEventOut,
    ReceiptOut,
    RepayIn,
    TransferIn,
)
from api.services import warehouse, warehouse_prices
from domain.roles import Role

router = APIRouter(prefix="/warehouse", tags=["warehouse"])
ERRORS = error_responses(400, 401, 403, 404, 409, 422, 503)
READS = error_responses(401, 403, 404, 422, 503)
Warehouse = Annotated[Principal, require(Role.LOGISTICS)]
Financier = Annotated[Principal, require(Role.FINANCIER)]
PriceSource = Annotated[Principal, require(Role.PRICE_SOURCE)]
Operator = Annotated[Principal, require(Role.OPERATOR)]
#: who may own a receipt, and so transfer, pledge, repay or surrender it
Owner = Annotated[Principal, require(Role.SUPPLIER, Role.CORE_ENTERPRISE, Role.FINANCIER, Role.LOGISTICS)]


@router.put("/warehouses/{participant_id}", response_model=TxOut, responses=ERRORS)
def appoint_warehouse(
    participant_id: str, body: AppointIn, _: Operator, state: StateDep, session: SessionDep
) -> TxOut:
    """Appoint a logistics participant as a warehouse that may issue receipts (or withdraw it)."""
    return warehouse.appoint(state, session, participant_id, body.appointed)


@router.post("/receipts", status_code=201, response_model=TxOut, responses=ERRORS)
def issue_receipt(
    body: IssueIn, principal: Warehouse, state: StateDep, session: SessionDep, idem: IdempotencyDep
) -> TxOut:
    """Issue a receipt for a lot I (an appointed warehouse) hold, to its owner. A lot is issued once."""
    return idem.run(body, lambda: warehouse.issue(state, session, principal.member, body))


@router.get("/receipts", response_model=Page[ReceiptOut], responses=READS)
def list_receipts(
    principal: PrincipalDep, state: StateDep, session: SessionDep, paging: PagingDep
) -> Page[ReceiptOut]:
    """Receipts I own, issued, lend against or was asked to finance; all for operator and regulator."""
    found = warehouse.list_receipts(state, session, principal, paging.limit, paging.offset)
    return paging.page_of(*found)


@router.get("/receipts/{receipt_id}", response_model=ReceiptOut, responses=READS)
def read_receipt(
    receipt_id: IdPath, principal: PrincipalDep, state: StateDep, session: SessionDep
) -> ReceiptOut:
    """One receipt, valued at the latest recorded price of its commodity."""
    return warehouse.read_receipt(state, session, principal, receipt_id)


@router.get("/receipts/{receipt_id}/history", response_model=Page[ReceiptEventOut], responses=READS)
def receipt_history(
    receipt_id: IdPath, principal: PrincipalDep, state: StateDep, session: SessionDep, paging: PagingDep
) -> Page[ReceiptEventOut]:
    """A receipt's provenance: every event that touched it (issued, moved, pledged, repaid, margin calls,
    alerts, freezes, released, surrendered), in chain order."""
    return paging.page(warehouse.history(state, session, principal, receipt_id))


@router.post("/receipts/{receipt_id}/transfer", response_model=TxOut, responses=ERRORS)
def transfer_receipt(
    receipt_id: IdPath,
    body: TransferIn,
    principal: Owner,
    state: StateDep,
    session: SessionDep,
    idem: IdempotencyDep,
) -> TxOut:
    """Transfer my receipt (refused while pledged or frozen)."""
    return idem.run(
        body, lambda: warehouse.transfer(state, session, principal.member, receipt_id, body.to_participant_id)
    )


@router.post("/receipts/{receipt_id}/surrender", response_model=TxOut, responses=ERRORS)
def surrender_receipt(
    receipt_id: IdPath, principal: Owner, state: StateDep, session: SessionDep, idem: IdempotencyDep
) -> TxOut:
    """Goods-out: surrender (burn) my receipt for the goods. Refused while pledged or frozen."""
    return idem.run(NoBody(), lambda: warehouse.surrender(state, session, principal.member, receipt_id))


@router.post("/receipts/{receipt_id}/freeze", response_model=TxOut, responses=ERRORS)
def freeze_receipt(
    receipt_id: IdPath,
    body: FreezeIn,
    principal: Financier,
    state: StateDep,
    session: SessionDep,
    idem: IdempotencyDep,
) -> TxOut:
    """As its pledgee, freeze (or unfreeze) a pledged receipt. The freeze ends with the pledge."""
    return idem.run(
        body, lambda: warehouse.set_frozen(state, session, principal.member, receipt_id, body.frozen)
    )


@router.post(
    "/receipts/{receipt_id}/pledge-requests",
    status_code=201,
    response_model=PledgeRequestOut,
    responses=ERRORS,
)
def request_pledge(
    receipt_id: IdPath,
    body: PledgeRequestIn,
    principal: Owner,
    state: StateDep,
    session: SessionDep,
    idem: IdempotencyDep,
) -> PledgeRequestOut:
    """Ask a financier for a loan against my receipt: it may then see the receipt and offer terms."""
    return idem.run(
        body, lambda: warehouse.request_pledge(state, session, principal.member, receipt_id, body)
    )


@router.get("/pledge-requests", response_model=Page[PledgeRequestOut], responses=READS)
def list_pledge_requests(
    principal: PrincipalDep, session: SessionDep, paging: PagingDep
) -> Page[PledgeRequestOut]:
    """Pledge requests I made or received, newest first; all for operator and regulator."""
    return paging.page_of(*warehouse.pledge_requests(session, principal, paging.limit, paging.offset))


@router.post("/loans", status_code=201, response_model=TxOut, responses=ERRORS)
def offer_loan(
    body: LoanOfferIn, principal: Financier, state: StateDep, session: SessionDep, idem: IdempotencyDep
) -> TxOut:
    """Offer a loan against a receipt, within the loan-to-value limit at the latest price."""
    return idem.run(body, lambda: warehouse.offer_loan(state, session, principal.member, body))


@router.get("/loans", response_model=Page[LoanOut], responses=READS)
def list_loans(
    principal: PrincipalDep, state: StateDep, session: SessionDep, paging: PagingDep
) -> Page[LoanOut]:
    """Loans I lend or borrow, with their valuation now; all for operator and regulator."""
    return paging.page_of(*warehouse.list_loans(state, session, principal, paging.limit, paging.offset))


@router.get("/loans/{loan_id}", response_model=LoanOut, responses=READS)
def read_loan(loan_id: IdPath, principal: PrincipalDep, state: StateDep, session: SessionDep) -> LoanOut:
    """One loan: collateral, outstanding, loan-to-value and margin-call state."""
    return warehouse.read_loan(state, session, principal, loan_id)


@router.post("/loans/{loan_id}/accept", response_model=TxOut, responses=ERRORS)
def accept_loan(
    loan_id: IdPath, principal: Owner, state: StateDep, session: SessionDep, idem: IdempotencyDep
) -> TxOut:
    """Accept an offer on my receipt: it is pledged and the principal paid to me, atomically."""
    return idem.run(NoBody(), lambda: warehouse.accept_loan(state, session, principal.member, loan_id))


@router.post("/loans/{loan_id}/withdraw", response_model=TxOut, responses=ERRORS)
def withdraw_loan(
    loan_id: IdPath, principal: Financier, state: StateDep, session: SessionDep, idem: IdempotencyDep
) -> TxOut:
    """Withdraw my offer no owner accepted."""
    return idem.run(NoBody(), lambda: warehouse.withdraw_loan(state, session, principal.member, loan_id))


@router.post("/loans/{loan_id}/repay", response_model=TxOut, responses=ERRORS)
def repay_loan(
    loan_id: IdPath,
    body: RepayIn,
    principal: Owner,
    state: StateDep,
    session: SessionDep,
    idem: IdempotencyDep,
) -> TxOut:
    """Repay (part of) my loan; repaid in full, the pledge ends."""
    return idem.run(body, lambda: warehouse.repay(state, session, principal.member, loan_id, body.amount))


@router.post("/loans/{loan_id}/collateral", response_model=TxOut, responses=ERRORS)
def add_collateral(
    loan_id: IdPath,
    body: CollateralIn,
    principal: Owner,
    state: StateDep,
    session: SessionDep,
    idem: IdempotencyDep,
) -> TxOut:
    """Pledge one more of my receipts for my loan (to cure a margin call, say)."""
    return idem.run(
        body, lambda: warehouse.add_collateral(state, session, principal.member, loan_id, body.receipt_id)
    )


@router.post("/loans/{loan_id}/release", response_model=TxOut, responses=ERRORS)
def release_loan(
    loan_id: IdPath, principal: Financier, state: StateDep, session: SessionDep, idem: IdempotencyDep
) -> TxOut:
    """As lender, release the pledge without (full) repayment."""
    return idem.run(NoBody(), lambda: warehouse.release(state, session, principal.member, loan_id))


@router.post("/loans/{loan_id}/claim", response_model=TxOut, responses=ERRORS)
def claim_collateral(
    loan_id: IdPath, principal: Financier, state: StateDep, session: SessionDep, idem: IdempotencyDep
) -> TxOut:
    """As lender, take title to the collateral of a loan in default (maturity plus grace, or margin call)."""
    return idem.run(NoBody(), lambda: warehouse.claim(state, session, principal.member, loan_id))


@router.post("/loans/{loan_id}/margin-call", response_model=TxOut, responses=ERRORS)
def call_margin(
    loan_id: IdPath, principal: Owner, state: StateDep, session: SessionDep, idem: IdempotencyDep
) -> TxOut:
    """Call the margin of my loan (as lender or borrower) once outstanding is above its threshold."""
    return idem.run(NoBody(), lambda: warehouse.call_margin(state, session, principal.member, loan_id))


@router.post("/prices", status_code=201, response_model=PriceOut, responses=ERRORS)
def record_price(
    body: PriceObservationIn,
    principal: PriceSource,
    state: StateDep,
    session: SessionDep,
    idem: IdempotencyDep,
) -> PriceOut:
    """Submit my signed price observation: verified, recorded on chain; margins it breaks are called."""
    return idem.run(body, lambda: warehouse_prices.record(state, session, principal.member, body.observation))


@router.get("/prices", response_model=Page[PriceOut], responses=READS)
def list_prices(
    principal: PrincipalDep, state: StateDep, session: SessionDep, paging: PagingDep
) -> Page[PriceOut]:
    """The latest recorded price of every commodity and unit."""
    return paging.page(warehouse.list_prices(state, session, principal))
