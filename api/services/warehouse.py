"""Warehouse receipts and loans against them (issue 13; ``contracts/WarehouseReceipts.sol``).

Writes check what the gateway can tell before sending (the receipt or loan exists and is the caller's to act
on; 404 otherwise, as for receivables), then send with the caller's custodial key through
``api.services.lifecycle`` (reverts become API errors with the contract's error name). Reads come from the
read model (``rm_warehouse_receipt``, ``rm_loan``), after the caller's own transactions; valuations from the
contract's views at the chain's clock.

Who sees what: the operator and the regulator see everything. A participant sees a receipt it owns, issued
(its warehouse), lends against, or was asked to finance (a pledge request names it); and a loan it lends or
borrows. A financier offers a loan only against a receipt its present owner asked it to finance: it never
learns of a receipt by trying ids.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel
from sqlalchemy import or_
from sqlmodel import Session, col, func, select
from web3.types import TxReceipt

from api.errors import ApiError
from api.models import Participant, PledgeRequest
from api.schemas.lifecycle import TxOut
from api.schemas.warehouse import (
    IssueIn,
    LoanOfferIn,
    LoanOut,
    PledgeRequestIn,
    PledgeRequestOut,
    PriceOut,
    ReceiptEventOut,
    ReceiptOut,
    Valuation,
)
from api.services import recovery
from api.services.lifecycle import (
    Caller,
    act,
    address_of,
    participant_in_role_or_404,
    participant_or_404,
    tx_out,
)
from api.services.offers import permit_race_retryable
from api.services.reports import Names, as_of
from api.services.txerrors import on_chain
from api.state import AppState
from chain.client import Sender
from chain.contracts import LoanState, LoanTerms, Lot, WarehouseReceipt
from domain.fingerprint import lot_ref
from domain.maths import PRICE_QUANTITY, margin_callable
from domain.roles import OVERSEERS, Role
from readmodel.tables import RmLoan, RmLoanCollateral, RmPrice, RmReceiptEvent, RmWarehouseReceipt

Found = tuple[list[Any], int]


def code_bytes(text: str, size: int) -> bytes:
    """A code as the contract's left-aligned ``bytesN`` (``bytes16("SOYBEAN")``)."""
    raw = text.encode("ascii")
    if not raw or len(raw) > size:
        raise ApiError(422, "CODE_INVALID", f"{text!r} does not fit {size} bytes.")
    return raw.ljust(size, b"\x00")


def _hash32(value: str) -> bytes:
    return bytes.fromhex(value.removeprefix("0x"))


# ------------------------------------------------------------------------------------------ loading


def chain_receipt(state: AppState, rid: int) -> WarehouseReceipt:
    """The receipt as the contract has it now (404 ``RECEIPT_NOT_FOUND`` when none, or surrendered)."""
    r = state.chain().platform.warehouse.receipt(rid)
    if r is None:
        raise ApiError(404, "RECEIPT_NOT_FOUND", f"No warehouse receipt {rid}.")
    return r


def _owned(state: AppState, owner: Participant, rid: int) -> WarehouseReceipt:
    r = chain_receipt(state, rid)
    if r.owner.lower() != owner.chain_address.lower():
        raise ApiError(404, "RECEIPT_NOT_FOUND", f"No warehouse receipt {rid} of yours.")
    return r


def _loan_of(state: AppState, loan_id: int, party: Participant, *, as_lender: bool) -> Any:
    """The loan, if ``party`` is its lender (``as_lender``) or its borrower (the owner of its receipt)."""
    wh = state.chain().platform.warehouse
    loan = wh.loan(loan_id)
    me = party.chain_address.lower()
    if loan.state == LoanState.NONE:
        raise ApiError(404, "LOAN_NOT_FOUND", f"No warehouse loan {loan_id}.")
    if as_lender:
        ok = loan.lender.lower() == me
    else:
        receipt = wh.receipt(loan.receipt_id)
        ok = receipt is not None and receipt.owner.lower() == me
    if not ok:
        raise ApiError(404, "LOAN_NOT_FOUND", f"No warehouse loan {loan_id} of yours.")
    return loan


# ------------------------------------------------------------------------------------------ receipts


def appoint(state: AppState, session: Session, participant_id: str, appointed: bool) -> TxOut:
    """The operator appoints a logistics participant as a warehouse (it may then issue receipts), or
    withdraws the appointment (its receipts stay valid)."""
    who = participant_in_role_or_404(session, participant_id, Role.LOGISTICS)
    chain = state.chain()
    wh = chain.platform.warehouse
    return tx_out(on_chain(lambda: wh.appoint_warehouse(chain.operator, who.chain_address, appointed)))


def issue(state: AppState, session: Session, warehouse: Participant, body: IssueIn) -> TxOut:
    """Issue a receipt for a lot the calling warehouse holds, to its owner. The contract refuses a lot
    issued before (``DuplicateLot``: its lot number normalized, at this warehouse) and a warehouse the
    operator did not appoint (``NotWarehouse``)."""
    owner = participant_or_404(session, body.owner_id)
    lot = Lot(
        commodity=code_bytes(body.commodity, 16),
        grade=code_bytes(body.grade, 32),
        quantity=body.quantity,
        unit=code_bytes(body.unit, 4),
        location=code_bytes(body.location, 32),
        lot_ref=lot_ref(body.lot_number),
        evidence_hash=_hash32(body.evidence_hash),
    )
    wh = state.chain().platform.warehouse
    rid = 0

    def action(s: Sender) -> TxReceipt:
        nonlocal rid
        rid, receipt = wh.issue(s, owner.chain_address, lot)
        return receipt

    out = act(state, session, warehouse, action, kind="issue_receipt")
    out.receipt_id = rid
    return out


def transfer(state: AppState, session: Session, owner: Participant, rid: int, to_id: str) -> TxOut:
    _owned(state, owner, rid)
    to = participant_or_404(session, to_id)
    wh = state.chain().platform.warehouse
    return act(state, session, owner, lambda s: wh.transfer(s, to.chain_address, rid), receipt_id=rid)


def surrender(state: AppState, session: Session, owner: Participant, rid: int) -> TxOut:
    """Goods-out: the owner surrenders (burns) the receipt; refused while pledged or frozen."""
    _owned(state, owner, rid)
    wh = state.chain().platform.warehouse
    return act(state, session, owner, lambda s: wh.surrender(s, rid), receipt_id=rid)


def set_frozen(state: AppState, session: Session, lender: Participant, rid: int, frozen: bool) -> TxOut:
    """The pledgee freezes (or unfreezes) a pledged receipt."""
    r = chain_receipt(state, rid)
    wh = state.chain().platform.warehouse
    if r.loan_id == 0 or wh.loan(r.loan_id).lender.lower() != lender.chain_address.lower():
        raise ApiError(404, "RECEIPT_NOT_FOUND", f"No warehouse receipt {rid} pledged to you.")
    return act(state, session, lender, lambda s: wh.set_frozen(s, rid, frozen), receipt_id=rid)


def request_pledge(
    state: AppState, session: Session, owner: Participant, rid: int, body: PledgeRequestIn
) -> PledgeRequestOut:
    """Ask a financier for a loan against one of the caller's receipts: the financier may then see it."""
    _owned(state, owner, rid)
    financier = participant_or_404(session, body.financier_id)
    if financier.role != Role.FINANCIER:
        raise ApiError(404, "FINANCIER_NOT_FOUND", f"No financier {body.financier_id}.")
    row = PledgeRequest(
        receipt_id=rid,
        owner_id=owner.id,
        financier_id=financier.id,
        principal=str(body.principal),
        note=body.note,
        created_at=int(time.time()),
    )
    session.add(row)
    session.commit()
    session.refresh(row)
    return _request_out(row, Names(session, state), session)


def _request_out(row: PledgeRequest, names: Names, session: Session) -> PledgeRequestOut:
    owner = session.get(Participant, row.owner_id)
    financier = session.get(Participant, row.financier_id)
    assert owner is not None and financier is not None and row.id is not None
    return PledgeRequestOut(
        id=row.id,
        receipt_id=row.receipt_id,
        owner=names.ref(owner.chain_address),
        financier=names.ref(financier.chain_address),
        principal=int(row.principal),
        note=row.note,
        created_at=row.created_at,
    )


def pledge_requests(session: Session, caller: Caller, limit: int, offset: int) -> Found:
    """Pledge requests the caller made or received (every one for an overseer), newest first: one page
    and the total."""
    query = select(PledgeRequest)
    if caller.role not in OVERSEERS:
        me = caller.participant.id if caller.participant else ""
        query = query.where(or_(col(PledgeRequest.owner_id) == me, col(PledgeRequest.financier_id) == me))
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(col(PledgeRequest.id).desc()).offset(offset).limit(limit)).all()
    names = Names(session)
    return [_request_out(r, names, session) for r in rows], int(total)


# ------------------------------------------------------------------------------------------ loans


def offer_loan(state: AppState, session: Session, lender: Participant, body: LoanOfferIn) -> TxOut:
    """Offer a loan against a receipt, raising the lender's allowance for the contract by the principal in
    the same transaction (a refused offer changes nothing). The contract checks the loan-to-value limit at
    the latest recorded price (``LoanToValueTooHigh``, ``NoPrice``)."""
    receipt = chain_receipt(state, body.receipt_id)
    if not _asked_by_owner(session, lender, body.receipt_id, receipt.owner):
        # a financier learns of a receipt by its owner's request, never by trying ids
        raise ApiError(
            404, "RECEIPT_NOT_FOUND", f"No warehouse receipt {body.receipt_id} you were asked to finance."
        )
    platform = state.chain().platform
    terms = LoanTerms(body.principal, body.rate_bps, body.maturity, body.ltv_limit_bps, body.margin_call_bps)
    loan_id = 0

    def action(s: Sender) -> TxReceipt:
        nonlocal loan_id
        loan_id, receipt = platform.warehouse.offer_loan_with_permit(
            s, platform.warehouse_token, body.receipt_id, terms
        )
        return receipt

    with permit_race_retryable():
        out = act(state, session, lender, action, kind="offer_loan", receipt_id=body.receipt_id)
    out.loan_id = loan_id
    return out


def _asked_by_owner(session: Session, financier: Participant, rid: int, owner_address: str) -> bool:
    """Whether the receipt's present owner asked ``financier`` for a loan against it."""
    owner = session.exec(
        select(Participant.id).where(func.lower(col(Participant.chain_address)) == owner_address.lower())
    ).first()
    return (
        owner is not None
        and session.exec(
            select(PledgeRequest.id).where(
                col(PledgeRequest.receipt_id) == rid,
                col(PledgeRequest.financier_id) == financier.id,
                col(PledgeRequest.owner_id) == owner,
            )
        ).first()
        is not None
    )


def _loan_action(
    state: AppState,
    session: Session,
    party: Participant,
    loan_id: int,
    send: Callable[[Sender], TxReceipt],
    *,
    as_lender: bool,
) -> TxOut:
    loan = _loan_of(state, loan_id, party, as_lender=as_lender)
    return act(state, session, party, send, loan_id=loan_id, receipt_id=loan.receipt_id)


def accept_loan(state: AppState, session: Session, owner: Participant, loan_id: int) -> TxOut:
    """The owner accepts an offer: the receipt is pledged and the principal paid to it, atomically."""
    wh = state.chain().platform.warehouse
    return _loan_action(state, session, owner, loan_id, lambda s: wh.accept_loan(s, loan_id), as_lender=False)


def withdraw_loan(state: AppState, session: Session, lender: Participant, loan_id: int) -> TxOut:
    wh = state.chain().platform.warehouse
    return _loan_action(
        state, session, lender, loan_id, lambda s: wh.withdraw_loan(s, loan_id), as_lender=True
    )


def release(state: AppState, session: Session, lender: Participant, loan_id: int) -> TxOut:
    wh = state.chain().platform.warehouse
    return _loan_action(state, session, lender, loan_id, lambda s: wh.release(s, loan_id), as_lender=True)


def claim(state: AppState, session: Session, lender: Participant, loan_id: int) -> TxOut:
    """Title to every receipt of an unpaid loan, after maturity and grace or an uncured margin call."""
    wh = state.chain().platform.warehouse
    return _loan_action(
        state, session, lender, loan_id, lambda s: wh.claim_collateral(s, loan_id), as_lender=True
    )


def add_collateral(state: AppState, session: Session, owner: Participant, loan_id: int, rid: int) -> TxOut:
    _owned(state, owner, rid)
    wh = state.chain().platform.warehouse
    return _loan_action(
        state, session, owner, loan_id, lambda s: wh.add_collateral(s, loan_id, rid), as_lender=False
    )


def repay(state: AppState, session: Session, owner: Participant, loan_id: int, amount: int) -> TxOut:
    """The borrower repays (part of) a loan: a permit for exactly ``amount`` and the repayment in one
    transaction. Repaid in full, the pledge ends."""
    platform = state.chain().platform

    def send(s: Sender) -> TxReceipt:
        return platform.warehouse.repay_with_permit(s, platform.warehouse_token, loan_id, amount)

    with permit_race_retryable():
        out = _loan_action(state, session, owner, loan_id, send, as_lender=False)
    out.amount = amount
    return out


def call_margin(state: AppState, session: Session, party: Participant, loan_id: int) -> TxOut:
    """Call the margin of a loan above its threshold (its lender or borrower; the verifier does so by
    itself when it records a price)."""
    loan = state.chain().platform.warehouse.loan(loan_id)
    lender = loan.lender.lower() == party.chain_address.lower()
    wh = state.chain().platform.warehouse
    return _loan_action(
        state, session, party, loan_id, lambda s: wh.call_margin(s, loan_id), as_lender=lender
    )


# ------------------------------------------------------------------------------------------ reading


def _visible_receipts(caller: Caller) -> Any:
    """The ``rm_warehouse_receipt`` query of what the caller may see."""
    query = select(RmWarehouseReceipt)
    if caller.role in OVERSEERS:
        return query
    me = address_of(caller)
    pid = caller.participant.id if caller.participant else ""
    lent = (
        select(RmLoanCollateral.receipt_id)
        .join(RmLoan, col(RmLoan.loan_id) == col(RmLoanCollateral.loan_id))
        .where(col(RmLoan.lender) == me)
    )
    asked = select(PledgeRequest.receipt_id).where(col(PledgeRequest.financier_id) == pid)
    return query.where(
        or_(
            col(RmWarehouseReceipt.owner) == me,
            col(RmWarehouseReceipt.warehouse) == me,
            col(RmWarehouseReceipt.receipt_id).in_(lent),
            col(RmWarehouseReceipt.receipt_id).in_(asked),
        )
    )


def _valuation(session: Session, r: RmWarehouseReceipt) -> Valuation:
    price = session.get(RmPrice, (r.commodity, r.unit))
    if price is None:
        return Valuation(price_per_thousand=None, price_observed_at=None, value=None)
    per = int(price.per_thousand)
    return Valuation(
        price_per_thousand=per,
        price_observed_at=price.observed_at,
        value=int(r.quantity) * per // PRICE_QUANTITY,
    )


def receipt_out(session: Session, r: RmWarehouseReceipt, names: Names) -> ReceiptOut:
    return ReceiptOut(
        id=r.receipt_id,
        warehouse=names.ref(r.warehouse),
        owner=names.ref(r.owner),
        commodity=r.commodity,
        grade=r.grade,
        quantity=int(r.quantity),
        unit=r.unit,
        location=r.location,
        lot_ref=r.lot_ref,
        evidence_hash=r.evidence_hash,
        fingerprint=r.fingerprint,
        loan_id=r.loan_id,
        frozen=r.frozen,
        open_alerts=r.open_alerts,
        alerts_recorded=r.alerts_recorded,
        surrendered=r.surrendered,
        issued_block=r.issued_block,
        issued_tx=r.issued_tx,
        valuation=_valuation(session, r),
    )


def list_receipts(state: AppState, session: Session, caller: Caller, limit: int, offset: int) -> Found:
    as_of(state, caller)
    query = _visible_receipts(caller)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(col(RmWarehouseReceipt.receipt_id)).offset(offset).limit(limit)).all()
    names = Names(session, state)
    return [receipt_out(session, r, names) for r in rows], int(total)


def read_receipt(state: AppState, session: Session, caller: Caller, rid: int) -> ReceiptOut:
    as_of(state, caller)
    r = session.exec(_visible_receipts(caller).where(col(RmWarehouseReceipt.receipt_id) == rid)).first()
    if r is None:
        raise ApiError(404, "RECEIPT_NOT_FOUND", f"No warehouse receipt {rid}.")
    return receipt_out(session, r, Names(session, state))


def history(state: AppState, session: Session, caller: Caller, rid: int) -> list[ReceiptEventOut]:
    """Every event of a receipt the caller may see, in chain order (its provenance)."""
    read_receipt(state, session, caller, rid)
    rows = session.exec(
        select(RmReceiptEvent)
        .where(col(RmReceiptEvent.receipt_id) == rid)
        .order_by(col(RmReceiptEvent.block_number), col(RmReceiptEvent.log_index))
    ).all()
    return [
        ReceiptEventOut(
            block_number=r.block_number, tx_hash=r.tx_hash, event=r.event, detail=json.loads(r.detail)
        )
        for r in rows
    ]


def _visible_loans(caller: Caller) -> Any:
    query = select(RmLoan)
    if caller.role in OVERSEERS:
        return query
    me = address_of(caller)
    mine = select(RmWarehouseReceipt.receipt_id).where(col(RmWarehouseReceipt.owner) == me)
    # an offer has no borrower yet: the receipt's owner sees it, to accept it
    offers = col(RmLoan.state) == "OFFERED"
    return query.where(
        or_(col(RmLoan.lender) == me, col(RmLoan.borrower) == me, offers & col(RmLoan.receipt_id).in_(mine))
    )


def loan_out(state: AppState, session: Session, loan: RmLoan, names: Names, now: int) -> LoanOut:
    """The loan with its valuation at ``now`` (the chain's clock): collateral value at the latest prices (the
    contract's view), outstanding, loan-to-value and whether its margin may be called."""
    collateral = list(
        session.exec(
            select(RmLoanCollateral.receipt_id)
            .where(col(RmLoanCollateral.loan_id) == loan.loan_id)
            .order_by(col(RmLoanCollateral.block_number), col(RmLoanCollateral.receipt_id))
        ).all()
    )
    wh = state.chain().platform.warehouse
    outstanding = int(loan.due) - int(loan.repaid)
    value = wh.collateral_value(loan.loan_id)
    active = loan.state == "ACTIVE"
    ltv = None if not value else -(-outstanding * 10_000 // value)
    callable_ = (
        active
        and loan.margin_deadline is None
        and value is not None
        and margin_callable(outstanding, value, loan.margin_call_bps)
    )
    return LoanOut(
        id=loan.loan_id,
        receipt_id=loan.receipt_id,
        collateral=collateral,
        lender=names.ref(loan.lender),
        borrower=names.ref(loan.borrower) if loan.borrower else None,
        state=loan.state,  # type: ignore[arg-type]
        principal=int(loan.principal),
        rate_bps=loan.rate_bps,
        maturity=loan.maturity,
        ltv_limit_bps=loan.ltv_limit_bps,
        margin_call_bps=loan.margin_call_bps,
        due=int(loan.due),
        repaid=int(loan.repaid),
        outstanding=outstanding if active else 0,
        collateral_value=value,
        ltv_bps=ltv if active else None,
        margin_callable=callable_,
        margin_deadline=loan.margin_deadline,
        as_of=now,
    )


def list_loans(state: AppState, session: Session, caller: Caller, limit: int, offset: int) -> Found:
    as_of(state, caller)
    query = _visible_loans(caller)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(col(RmLoan.loan_id)).offset(offset).limit(limit)).all()
    names = Names(session, state)
    now = state.chain_now()  # one clock for the page
    return [loan_out(state, session, loan, names, now) for loan in rows], int(total)


def read_loan(state: AppState, session: Session, caller: Caller, loan_id: int) -> LoanOut:
    as_of(state, caller)
    loan = session.exec(_visible_loans(caller).where(col(RmLoan.loan_id) == loan_id)).first()
    if loan is None:
        raise ApiError(404, "LOAN_NOT_FOUND", f"No warehouse loan {loan_id}.")
    return loan_out(state, session, loan, Names(session, state), state.chain_now())


def list_prices(state: AppState, session: Session, caller: Caller) -> list[PriceOut]:
    as_of(state, caller)
    rows = session.exec(select(RmPrice).order_by(col(RmPrice.commodity), col(RmPrice.unit))).all()
    return [
        PriceOut(
            commodity=p.commodity,
            unit=p.unit,
            per_thousand=int(p.per_thousand),
            observed_at=p.observed_at,
            source_hash=p.source_hash,
            block_number=p.block_number,
        )
        for p in rows
    ]


# how an interrupted request is answered from its receipt (``api.services.recovery``)
def _finish_issue(state: AppState, _s: Session, receipt: TxReceipt, out: dict[str, Any]) -> BaseModel:
    (issued,) = state.chain().platform.warehouse.events(receipt, "ReceiptIssued")
    return tx_out(receipt, **out, receipt_id=int(issued["receiptId"]))


def _finish_offer(state: AppState, _s: Session, receipt: TxReceipt, out: dict[str, Any]) -> BaseModel:
    (offered,) = state.chain().platform.warehouse.events(receipt, "LoanOffered")
    return tx_out(receipt, **{**out, "loan_id": int(offered["loanId"])})


recovery.register("issue_receipt", recovery.Recoverer(finish=_finish_issue))
recovery.register("offer_loan", recovery.Recoverer(finish=_finish_offer))
